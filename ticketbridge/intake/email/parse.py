"""Turn raw inbound RFC 822 bytes into a :class:`ParsedEmail` that never surprises the caller.

Mail arrives from every client ever written, so the parser must accept anything: broken
MIME boundaries, unknown or misspelt charsets, raw 8-bit bytes in headers. ``parse_message``
therefore never raises. Each field is extracted on its own, and a failure only degrades that
field (decoded with ``errors="replace"``) and is recorded in ``defects`` so that staff and
tests can see what went wrong instead of losing the message.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any, TypeVar

import nh3

from ticketbridge import mailpolicy
from ticketbridge.forms.fields import Upload

T = TypeVar("T")


_MAX_DEPTH = 40
_MSGID_RE = re.compile(r"<[^<>\s]*>")
# Longer identifiers are not real ones (RFC 5322 caps a line at 998 characters); read as absent,
# so a hostile header cannot overflow the columns that key and thread the mail.
_MAX_MESSAGE_ID = 900
# Lenient on purpose: real mailers fold or put spaces inside encoded words.
_ENCODED_WORD_RE = re.compile(r"=\?[^?\s]+\?[bBqQ]\?.*?\?=")
_DELIMITER_RE = re.compile(r"^--(\S+?)(?:--)?[ \t\r]*$", re.MULTILINE)
_QUOTED_LOCAL_RE = re.compile(r'^"([A-Za-z0-9.!#$%&\'*+/=?^_`{|}~-]+)"@')

# Names that real mailers emit but Python's codec registry does not know, or knows as a
# narrower codec than the senders actually use (Outlook's "Korean" is really cp949).
_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "unicode-1-1-utf-8": "utf-8",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}


Attachment = Upload
"""A non-body MIME part, kept as bytes so nothing is lost to a wrong charset guess: the same
record as a file sent with a form, so both are stored alike."""


@dataclass(frozen=True)
class ParsedEmail:
    """What the intake needs from one message; every field has a safe value."""

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    headers: dict[str, list[str]] = field(hash=False)
    defects: tuple[str, ...]
    content_hash: str
    quote_start: str | None = None

    def header(self, name: str) -> str | None:
        """First raw value of a header (case-insensitive), for the loop detector."""
        values = self.headers.get(name.lower())
        return values[0] if values else None


def lookup_codec(charset: str | None) -> str | None:
    """Return a usable Python codec name for a MIME charset label, or None when unknown."""
    if not charset:
        return None
    label = str(charset).strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Decode bytes leniently: declared charset, then UTF-8, then cp1252, never raising.

    UTF-8 is tried before cp1252 when the declared charset is unknown because modern
    clients that mislabel their charset almost always send UTF-8.
    """
    codec = lookup_codec(charset)
    if charset and codec is None and defects is not None:
        defects.append(f"UnknownCharsetDefect:{charset}")
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            if defects is not None:
                defects.append(f"CharsetDecodeDefect:{charset}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(codec or "cp1252", errors="replace")


def _unsurrogate(value: str) -> str:
    """Turn the surrogate escapes that BytesParser uses for 8-bit header bytes back into text."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), None)


def decode_header_value(value: object, defects: list[str] | None = None) -> str:
    """Decode a raw header value (RFC 2047 words, raw 8-bit, folding) without ever raising.

    The standard library's ``make_header`` raises on unknown charsets; this decodes each
    chunk with :func:`decode_bytes` instead and keeps whatever it can.
    """
    if value is None:
        return ""
    text = _unsurrogate(str(value))
    text = re.sub(r"[\r\n]+[ \t]*", " ", text)
    if not _ENCODED_WORD_RE.search(text):
        return text.strip()
    try:
        chunks = decode_header(text)
    except Exception:  # noqa: BLE001 - malformed encoded words: keep the raw text
        if defects is not None:
            defects.append("HeaderDecodeDefect")
        return text.strip()
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset, defects))
        else:
            out.append(chunk)
    return "".join(out).strip()


class _HtmlText(HTMLParser):
    """Minimal HTML-to-text: block tags become line breaks, script/style are dropped, and quoted
    history is written the way plain-text mail writes it, each line starting with "> ".

    Webmails mark what they quote in their HTML rather than in the text: a ``<blockquote>``
    (Apple Mail, Thunderbird, Roundcube, most others), a container by class or id (Gmail's
    ``gmail_quote``, Yahoo's ``yahoo_quoted``, Proton's ``protonmail_quote``, Zoho's
    ``zmail_extra``, Thunderbird's ``moz-cite-prefix`` attribution), or a marker after which
    everything is the earlier message (Outlook's ``divRplyFwdMsg`` and ``appendonsend``,
    Zimbra's ``zwchr``). With those lines marked, reply extraction treats every webmail's
    quote as it treats a ``>`` quote, by class rather than by client.
    """

    _BLOCK = {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "table",
        "ul",
        "ol",
        "pre",
        "hr",
    }
    _SKIP = {"script", "style", "head", "title"}
    _VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
    _QUOTE_MARKERS = (
        "gmail_quote",
        "gmail_attr",
        "yahoo_quoted",
        "protonmail_quote",
        "zmail_extra",
        "moz-cite-prefix",
        "spark_quote",
        "aolreplyheader",
        "mailbox_quote",
        "quote",
    )
    _REST_MARKERS = ("divrplyfwdmsg", "appendonsend", "zwchr", "olk_src_body_section")

    def __init__(self, *, stop_at_quote: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self._stop_at_quote = stop_at_quote
        self.parts: list[str] = []
        self._skipping = 0
        self._line_start = True
        self._open: list[tuple[str, bool]] = []
        self._quoting = 0
        self._rest_quoted = False
        self.first_quoted: str | None = None

    def _newline(self, force: bool = False) -> None:
        """Block boundaries open one line; <br> and Outlook's &nbsp; paragraphs add blank lines."""
        if force or not self._line_start:
            self.parts.append("\n")
            self._line_start = True

    def _marks(self, tag: str, attrs: list[tuple[str, str | None]]) -> tuple[bool, bool]:
        """(this element is a quote, everything from here on is)."""
        names = [
            token.lower()
            for key, value in attrs
            if key in {"class", "id", "name"} and value
            for token in value.split()
        ]
        rest = any(marker in name for name in names for marker in self._REST_MARKERS)
        quote = tag == "blockquote" or any(
            name == marker or name.startswith(marker + "_") or name.endswith("_" + marker)
            for name in names
            for marker in self._QUOTE_MARKERS
        )
        return quote, rest

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        quote, rest = self._marks(tag, attrs)
        if rest:
            self._newline()
            self._rest_quoted = True
        if tag not in self._VOID:
            self._open.append((tag, quote))
            self._quoting += quote
        if tag in self._SKIP:
            self._skipping += 1
        elif tag == "br":
            self._newline(force=True)
        elif tag in self._BLOCK:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if any(name == tag for name, _ in self._open):
            while self._open:
                name, quote = self._open.pop()
                self._quoting -= quote
                if name == tag:
                    break
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._line_start and not data.strip():
            if "\xa0" in data:
                self._newline(force=True)
            return
        text = re.sub(r"\s+", " ", data)
        if self._line_start and (self._quoting or self._rest_quoted):
            if self.first_quoted is None:
                self.first_quoted = text.strip()
                if self._stop_at_quote:
                    raise _QuoteFound
            text = "> " + text.lstrip()
        self.parts.append(text)
        self._line_start = False


class _QuoteFound(Exception):
    """Stops `html_quote_start`'s parse at the first quoted line."""


def html_to_text(html: str) -> str:
    """Readable plain text from HTML, for HTML-only mail and reply extraction; quoted history
    is marked with "> " as plain-text mail marks it."""
    return _html_text(html)[0]


def html_quote_start(html: str) -> str | None:
    """The first quoted line of an HTML mail: where its quoted history starts. Parsing stops
    there: the history below, most of a long thread's reply, is never read."""
    parser = _HtmlText(stop_at_quote=True)
    try:
        parser.feed(html)
        parser.close()
    except _QuoteFound:
        pass
    except Exception:  # noqa: BLE001 - as in _html_text: no quote found in what cannot be read
        return None
    return parser.first_quoted


def _html_text(html: str) -> tuple[str, str | None]:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient; this is a last resort
        return unescape(re.sub(r"<[^>]*>", " ", html)).strip(), None
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), parser.first_quoted


def _guard(defects: list[str], label: str, fn: Callable[[], T], default: T) -> T:
    """Run one extraction step; on any error record it and return the default."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - parse_message must never raise
        defects.append(f"{label}:{type(exc).__name__}")
        return default


def _raw_header(msg: Message, name: str) -> str | None:
    """The raw (undecoded) value of the first header named ``name``."""
    for key, value in msg.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _addresses(msg: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    """(display name, lowercased addr-spec) pairs; names decoded after splitting on commas.

    Spaces inside ``<...>`` are typos and removed; ``Name user@host`` without brackets is
    read as a display name followed by the address.
    """
    raws = [str(v) for k, v in msg.raw_items() if k.lower() == name]
    if not raws:
        return []
    pairs = getaddresses([_unsurrogate(re.sub(r"[\r\n]+[ \t]*", " ", r)) for r in raws])
    bracketed = any("<" in r or ">" in r for r in raws)
    out = []
    for display, addr in pairs:
        if not bracketed and " " in addr.strip() and '"' not in addr:
            words, addr = addr.strip().rsplit(None, 1)
            display = display or words
        addr = _QUOTED_LOCAL_RE.sub(r"\1@", re.sub(r"\s+", "", addr)).lower()
        if addr:
            out.append((decode_header_value(display, defects), addr))
    return out


def _message_id(value: str | None) -> str | None:
    """First ``<...>`` token of an identifier header, or the bare stripped value."""
    if not value:
        return None
    match = _MSGID_RE.search(value)
    found = match.group(0) if match else value.strip()
    return found if 0 < len(found) <= _MAX_MESSAGE_ID else None


def _date(msg: Message) -> datetime | None:
    """Aware datetime of the Date header; a ``-0000`` zone is read as UTC."""
    raw = _raw_header(msg, "date")
    if not raw:
        return None
    parsed = parsedate_to_datetime(decode_header_value(raw))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _payload(part: Message, defects: list[str]) -> bytes:
    """Transfer-decoded bytes of a leaf part (base64, QP, uuencode); raw bytes on failure."""
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001
        defects.append(f"PayloadDecodeDefect:{type(exc).__name__}")
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return str(raw).encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _filename(part: Message, defects: list[str]) -> str:
    """Attachment file name, RFC 2231 or RFC 2047 encoded, decoded leniently."""
    name: str | tuple[str | None, str | None, str] | None = _guard(
        defects, "FilenameDefect", part.get_filename, None
    )
    if name is None:
        name = _guard(defects, "FilenameDefect", lambda: part.get_param("name"), None)
    if isinstance(name, tuple):
        name = decode_bytes(str(name[2]).encode("latin-1", "replace"), name[0], defects)
    return decode_header_value(name, defects) if name else ""


@dataclass
class _Body:
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


def _walk(part: Message, body: _Body, defects: list[str], depth: int = 0) -> None:
    """Collect the first inline text and HTML parts; everything else becomes an attachment.

    Embedded messages (message/rfc822, DSN parts) stay whole as attachments: their body is
    someone else's text, not this message's, and the bounce detector reads them from there.
    """
    defects.extend(type(d).__name__ for d in part.defects)
    ctype = part.get_content_type()
    if ctype.startswith("multipart/") and not part.is_multipart():
        repaired = _repair_boundary(part, defects)
        if repaired is None:
            _add_text(part, "text/plain", _payload(part, defects), body, defects)
            return
        part = repaired
    if part.is_multipart() and ctype.startswith("multipart/"):
        if depth >= _MAX_DEPTH:
            defects.append("NestingTooDeepDefect")
            return
        for child in part.get_payload():
            if isinstance(child, Message):
                _walk(child, body, defects, depth + 1)
        return
    if ctype.startswith("message/") or ctype == "text/rfc822-headers":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            blocks = [
                _guard(defects, "EmbeddedMessageDefect", m.as_bytes, b"")
                for m in inner
                if isinstance(m, Message)
            ]
            data = b"\n".join(blocks)
        else:
            data = _payload(part, defects)
        body.attachments.append(Attachment(_filename(part, defects), ctype, data))
        return
    filename = _filename(part, defects)
    disposition = (part.get_content_disposition() or "inline") if depth else "inline"
    data = _payload(part, defects)
    if disposition == "inline" and not filename:
        _add_text(part, ctype, data, body, defects)
    else:
        body.attachments.append(Attachment(filename, ctype, data))


def _add_text(part: Message, ctype: str, data: bytes, body: _Body, defects: list[str]) -> None:
    """Keep the first inline text/plain and text/html; later inline parts are attachments."""
    if ctype == "text/plain" and body.text is None:
        body.text = decode_bytes(data, part.get_content_charset(), defects)
    elif ctype == "text/html" and body.html is None:
        body.html = decode_bytes(data, part.get_content_charset(), defects)
    else:
        body.attachments.append(Attachment("", ctype, data))


def _repair_boundary(part: Message, defects: list[str]) -> Message | None:
    """Re-parse a multipart whose declared boundary never occurs, using the delimiter it uses.

    Mailers that write an unquoted boundary containing ``=`` (illegal) or a boundary that
    differs from the one in the body leave the whole multipart as one opaque string; the
    first ``--token`` line of the body is then the sender's real delimiter.
    """
    payload = part.get_payload()
    if not isinstance(payload, str):
        return None
    match = _DELIMITER_RE.search(payload)
    if match is None:
        return None
    head = f'Content-Type: {part.get_content_type()}; boundary="{match.group(1)}"\r\n\r\n'
    data = head.encode() + payload.encode("utf-8", "surrogateescape")
    repaired = BytesParser(policy=mailpolicy.DEFAULT).parsebytes(data)
    if not repaired.is_multipart():
        return None
    defects.append("RepairedBoundaryDefect")
    return repaired


def _headers(msg: Message) -> dict[str, list[str]]:
    """Lowercased header name -> raw values (8-bit bytes decoded), for loop detection."""
    out: dict[str, list[str]] = {}
    for key, value in msg.raw_items():
        out.setdefault(key.lower(), []).append(_unsurrogate(str(value)))
    return out


def parse_message(raw: bytes) -> ParsedEmail:
    """Parse raw RFC 822 bytes; never raises, records every defect met on the way."""
    defects: list[str] = []
    content_hash = hashlib.sha256(raw).hexdigest()
    msg = _guard(
        defects, "ParserError", lambda: BytesParser(policy=mailpolicy.DEFAULT).parsebytes(raw), None
    )
    if msg is None:
        return _unparsable(raw, content_hash, defects)

    def get(name: str) -> str:
        return decode_header_value(_raw_header(msg, name), defects)

    no_addresses: list[tuple[str, str]] = []
    senders = _guard(defects, "FromDefect", lambda: _addresses(msg, "from", defects), no_addresses)
    from_name, from_address = senders[0] if senders else ("", "")
    body = _guard(defects, "BodyDefect", lambda: _collect(msg, defects), _Body())
    html = body.html
    text = body.text
    if text is None:
        text = _guard(defects, "HtmlTextDefect", lambda: html_to_text(html or ""), "")
    clean_html = _guard(defects, "SanitizeDefect", lambda: nh3.clean(html), None) if html else None
    quote_start = (
        _guard(defects, "HtmlTextDefect", lambda: html_quote_start(html or ""), None)
        if html and body.text is not None
        else None
    )

    def addrs(name: str) -> tuple[str, ...]:
        return tuple(
            a
            for _, a in _guard(
                defects, f"{name}Defect", lambda: _addresses(msg, name, defects), no_addresses
            )
        )

    return _without_nul(
        ParsedEmail(
            message_id=_message_id(get("message-id")),
            in_reply_to=_message_id(get("in-reply-to")),
            references=tuple(
                ref for ref in _MSGID_RE.findall(get("references")) if len(ref) <= _MAX_MESSAGE_ID
            ),
            subject=get("subject"),
            from_address=from_address,
            from_name=from_name,
            to=addrs("to"),
            cc=addrs("cc"),
            reply_to=addrs("reply-to"),
            date=_guard(defects, "DateDefect", lambda: _date(msg), None),
            text=text,
            html=clean_html,
            attachments=tuple(body.attachments),
            headers=_guard(defects, "HeaderDefect", lambda: _headers(msg), {}),
            defects=tuple(dict.fromkeys(defects)),
            content_hash=content_hash,
            quote_start=quote_start,
        )
    )


def _without_nul(email: ParsedEmail) -> ParsedEmail:
    """Every text with its NUL characters replaced: PostgreSQL refuses them in text columns, and
    one in a From header would fail the whole batch's lookups. Attachment bytes stay as sent."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("\x00", "\ufffd")
        if isinstance(value, tuple | list):
            return type(value)(clean(item) for item in value)
        if isinstance(value, dict):
            return {clean(key): clean(item) for key, item in value.items()}
        if isinstance(value, Attachment):
            return dataclasses.replace(
                value, filename=clean(value.filename), content_type=clean(value.content_type)
            )
        return value

    return dataclasses.replace(
        email, **{f.name: clean(getattr(email, f.name)) for f in dataclasses.fields(email)}
    )


def _collect(msg: Message, defects: list[str]) -> _Body:
    body = _Body()
    _walk(msg, body, defects)
    return body


def _unparsable(raw: bytes, content_hash: str, defects: list[str]) -> ParsedEmail:
    """Last resort when the parser itself fails: keep the bytes as text so nothing is lost."""
    return ParsedEmail(
        message_id=None,
        in_reply_to=None,
        references=(),
        subject="",
        from_address="",
        from_name="",
        to=(),
        cc=(),
        reply_to=(),
        date=None,
        text=decode_bytes(raw, None),
        html=None,
        attachments=(),
        headers={},
        defects=tuple(defects),
        content_hash=content_hash,
    )
