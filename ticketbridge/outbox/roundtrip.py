"""The last check before an email is stored to send: its bytes, parsed back, say what we built.

`WritingPolicy` refuses a folded header with a bare line break; this check looks at the whole
message as a receiving server will, so any other way a value could turn into syntax — a
header we did not write, an address we did not address, a MIME part we did not add — is
refused too, whatever the email package on the machine does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage, Message
from email.parser import BytesParser, Parser
from email.policy import EmailPolicy
from typing import Any

from ticketbridge.errors import UnsafeHeader

_HEADER_LINE = re.compile(rb"[!-9;-~]+:[^\r\n\x00]*|[ \t][^\r\n\x00]*")


def check_round_trip(built: EmailMessage, raw: bytes) -> None:
    """UnsafeHeader unless `raw` (serialised from `built`) parses back to the same headers and
    MIME parts."""
    policy = built.policy
    assert isinstance(policy, EmailPolicy)
    _check_header_lines(raw, utf8=policy.utf8)
    parsed = _parsed(raw, policy)
    built_parts, parsed_parts = list(built.walk()), list(parsed.walk())
    if _types(built_parts) != _types(parsed_parts):
        raise UnsafeHeader(
            f"the email's MIME parts {_types(built_parts)} would parse back as "
            f"{_types(parsed_parts)}"
        )
    for ours, theirs in zip(built_parts, parsed_parts, strict=True):
        _check_headers(ours, theirs)


def _parsed(raw: bytes, policy: EmailPolicy) -> Message:
    """As a receiver reads it; UTF-8 headers (SMTPUTF8) as text, since the byte parser would
    leave them as undecodable bytes."""
    if not policy.utf8:
        return BytesParser(policy=policy).parsebytes(raw)
    try:
        return Parser(policy=policy).parsestr(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UnsafeHeader(f"the email is not UTF-8 as its SMTPUTF8 headers say: {exc}") from None


def _check_header_lines(raw: bytes, *, utf8: bool) -> None:
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if not _HEADER_LINE.fullmatch(line) or not (utf8 or line.isascii()):
            raise UnsafeHeader(f"the email's header line {line!r} is not a header as written")


def _check_headers(ours: Message, theirs: Message) -> None:
    names = [name.lower() for name in ours.keys()]
    if names != [name.lower() for name in theirs.keys()]:
        raise UnsafeHeader(
            f"the email's headers {names} would parse back as {[n.lower() for n in theirs.keys()]}"
        )
    for name in dict.fromkeys(names):
        written = [_value(v) for v in ours.get_all(name, [])]
        read = [_value(v) for v in theirs.get_all(name, [])]
        if written != read:
            raise UnsafeHeader(f"the {name} header {written} would parse back as {read}")


def _value(header: Any) -> Any:
    """What a reader takes from a header: its addresses, or its text with white space folded."""
    addresses = getattr(header, "addresses", None)
    if addresses is not None:
        return [(a.display_name, a.addr_spec) for a in addresses]
    return " ".join(str(header).split())


def _types(parts: Sequence[Message]) -> list[str]:
    return [part.get_content_type() for part in parts]
