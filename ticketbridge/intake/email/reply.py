"""Keep only the new text of an emailed reply: quoted history, sign-offs and signatures go.

Customers answer ticket emails from every client and language, and the ticket thread must
show what they wrote now, not the whole history again. ``extract_reply`` builds on
``email-reply-parser`` (GitHub's algorithm: ``>`` quotes, ``--`` signatures) and adds the steps
that library lacks, each for a class of mail rather than one client:

1. quoted history: cut at the first quote header in several languages ("On ... wrote:", "Am
   ... schrieb:", "Den ... skrev", "Dnia ... napisał(a):", ...) unless the sender answered
   inline below it (quoted lines followed by new text), at Outlook history blocks
   ("-----Original Message-----" and localised variants, "From: ... / Sent: ..." headers),
   but only when new text stands above them, and where a webmail's HTML marks its quote
   (any ``<blockquote>``, or a quote container by class: see ``parse.html_to_text``), which
   also finds the quote in the plain-text part those webmails send without ``>`` marks;
2. a trailing valediction ("Regards", "Med venlig hilsen", "Hilsen", "Pozdrawiam", "Saludos",
   "С уважением", ...) with at most a few short name lines below it, in a dozen languages;
3. a trailing signature without a ``-- `` line: a name followed by a title, company, phone,
   address or web line (any of them), when it stands apart from the text;
4. a phone or mail-app footer in any of the languages those apps use ("Sent from my iPhone",
   "Von meinem iPhone gesendet", "Envoyé de mon iPad", "Enviado desde mi Samsung Galaxy",
   "Get Outlook for Android", ...): a short last line naming a device or app. A line that
   only starts like one ("Sent from my office: the license file you asked for") is the
   customer's sentence and is kept: the library's own rule, any paragraph starting "Sent
   from my", is replaced by this one.

Decision: signatures are always removed, including "Sent from my iPhone" and ``-- `` blocks
(talon keeps those in its expected texts; for a ticket thread they are noise). "Thanks,"
followed by a name is kept: it is part of what the customer wrote.

Figures on the 36 ``reply`` rows of the shared corpus
(``.venv/bin/python bench/email_reply_libraries.py``; both libraries get the same input,
HTML-only samples converted with ``html_to_text``)::

    email-reply-parser           29/36 = 81%
    mail-parser-reply            25/36 = 69%
    ticketbridge extract_reply   34/36 = 94%

The two remaining failures are talon's expectations that keep "Sent from my iPhone" and a
Sparrow ``-- `` signature, which contradict the decision above. The table tests by class
(``tests/email/test_reply_classes.py``) hold the corpus rows among them.
"""

from __future__ import annotations

import re

from email_reply_parser import EmailMessage

from ticketbridge.intake.email.parse import html_to_text

_WROTE = (
    r"wrote|schrieb|a\s+écrit|escribió|ha\s+scritto|schreef|skrev|napisał\(a\)|napisała?|"
    r"kirjoitti|escreveu|писал\(а\)|написал\(а\)|писал|написал|yazdı|a\s+scris|írta|"
    r"napsal\(a\)|napsal|写道|のメッセージ|님이\s*작성"
)
_QUOTE_HEADER_RE = re.compile(
    rf"(?:on|am|le|el|il|op|den|dnia|em|på|dne|в|w)\b.*\d.*(?:{_WROTE})(?:\s.{{0,100}})?\s*[:：]\s*",
    re.IGNORECASE,
)
_ORIGINAL_RE = re.compile(
    r"^\s*-{2,}\s*(?:original message|oprindelig meddelelse|ursprüngliche nachricht|"
    r"message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|"
    r"ursprungligt meddelande|wiadomość oryginalna|opprinnelig melding|původní zpráva)"
    r"\s*-{2,}\s*$",
    re.IGNORECASE,
)
_FROM_RE = re.compile(r"^\s*\*?(?:from|von|de|od|fra|från|van|da|från|от)\s*:", re.IGNORECASE)
_SENT_RE = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|envoyé|wysłano|sendt|skickat|verzonden|inviato|"
    r"enviado|fecha|data|date de|отправлено|odesláno)\s*:",
    re.IGNORECASE,
)
_VALEDICTIONS = (
    # English
    r"(?:best|kind|kindest|warm|warmest|many|with)\s+regards|regards|rgds|br|cheers|sincerely|"
    r"yours(?:\s+(?:truly|sincerely|faithfully))?|best(?:\s+wishes)?|all the best|greetings|"
    r"take care|respectfully|thanks\s*(?:&|and)\s*regards|"
    # Danish, Norwegian, Swedish
    r"(?:med\s+)?(?:venlig|vennlig|venleg)(?:e|ste)?\s+hilsen|hilsen|hilsner|mvh|vh|"
    r"(?:med\s+)?vänliga?\s+hälsningar|hälsningar|hälsning|mvh\.|"
    # German, Dutch
    r"mit\s+freundlichen\s+grüßen|mfg|(?:viele|beste|liebe|freundliche)\s+grüße|grüße|gruß|lg|vg|"
    r"met\s+vriendelijke\s+groet(?:en)?|vriendelijke\s+groet(?:en)?|groet(?:en|jes)?|mvg|"
    # French, Spanish, Portuguese, Italian
    r"(?:bien\s+)?cordialement|bien\s+à\s+vous|salutations(?:\s+distinguées)?|amicalement|"
    r"(?:un\s+)?saludos?(?:\s+cordiales)?|atentamente|un\s+abrazo|"
    r"(?:com\s+os\s+)?(?:melhores\s+)?cumprimentos|atenciosamente|abraços|"
    r"(?:distinti|cordiali)\s+saluti|saluti|un\s+saluto|"
    # Polish, Czech, Slovak, Hungarian, Finnish, Russian, Turkish
    r"pozdrawiam|pozdrowienia|z\s+pozdrowieniami|z\s+poważaniem|z\s+powazaniem|"
    r"s\s+pozdravem|s\s+pozdravom|pozdrav|üdvözlettel|(?:ystävällisin\s+)?terveisin|"
    r"с\s+уважением|всего\s+доброго|saygılarımla|selamlar|"
    # Japanese, Chinese
    r"よろしくお願い(?:いた|致)?します|敬具|此致|祝好"
)
_VALEDICTION_RE = re.compile(
    rf"^(?:{_VALEDICTIONS})\s*[,.!]?(?:\s+[\w.'-]+){{0,3}}\s*$", re.IGNORECASE
)
_CONTACT_RE = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+|^(?:\w{1,8}\.?\s*:\s*)?\+?[\d\s().\-/]{7,}$|"
    r"(?:https?://|www\.)\S+|^(?:tel|phone|mobile|mob|cell|fax|tlf|telefon|handy|t|m|f)\b\.?\s*:?",
    re.IGNORECASE,
)
_NAME_RE = re.compile(r"^[^\W\d_][\w.'-]*(?:\s+[^\W\d_][\w.'-]*){0,3}\s*$")
_SEPARATOR_RE = re.compile(r"^\s*(?:-{2,}|_{2,}|—+|–+)\s*$")
_DEVICES = (
    r"iphone|ipad|ipod|android|galaxy|samsung|blackberry|huawei|xiaomi|pixel|motorola|nokia|"
    r"xperia|oneplus|windows\s+phone|mobile|mobil|móvil|movil|celular|cellulare|smartphone|"
    r"handy|tablet|telefoon|telefon|téléphone|puhelin|outlook|yahoo\s+mail|aol|proton\s*mail|"
    r"gmail|spark|bluemail|mymail|mail\s+for\s+windows|sparrow|airmail|newton|edison"
)
_FOOTER_LEAD = (
    r"sent|sendt|skickat|skickad|envoyé|envoye|enviado|enviada|inviato|verzonden|verstuurd|"
    r"gesendet|von|vom|wysłane|wysłano|wyslane|отправлено|lähetetty|odesláno|odoslané|poslano|"
    r"küldve|trimis|gönderildi|get|download|from|de|desde|da|dal|vanaf|fra|från|z"
)
_FOOTER_RE = re.compile(
    rf"^\s*(?:{_FOOTER_LEAD})\b[^?!]{{0,40}}?\b(?:{_DEVICES})\b(?P<rest>[^?!:;]{{0,40}})$",
    re.IGNORECASE,
)
_SENTENCE_WORDS = frozenset(
    "because and so but as since please the to i we it is are was were that this which when if "
    "weil und aber bitte parce que et mais porque pero y perché ma e omdat maar en".split()
)


class _Reply(EmailMessage):
    """email-reply-parser with a signature rule that keeps sentences: its own rule took any
    paragraph starting "Sent from my" (or "-" and a letter, as in a bullet list) for one."""

    SIG_REGEX = re.compile(r"(?:-{2,}|_{2,})\s*$|-\s?[^\W\d_]+(?:\s[^\W\d_]+)?\s*$")


def device_footer(line: str) -> bool:
    """A phone or mail-app footer: a short line naming a device or app after a "sent"-like
    word, with nothing of a sentence after the name ("Sent from my iPhone 15 Pro" is one,
    "Sent from my iPhone because the laptop died" is not)."""
    match = _FOOTER_RE.match(line.strip())
    if match is None or len(line.split()) > 9:
        return False
    rest = re.findall(r"[\w']+", match.group("rest").lower())
    return len(rest) <= 4 and not _SENTENCE_WORDS.intersection(rest)


def _interleaved(after: list[str]) -> bool:
    """True when new text follows quoted lines: the sender answered inline, keep it all.

    Only lines of some length count as new text; wrapping debris (single characters left
    by broken quoted-printable) does not.
    """
    seen_quote = False
    for line in after:
        if line.startswith(">"):
            seen_quote = True
        elif seen_quote and len(line.strip()) >= 20:
            return True
    return False


def _cut_history(lines: list[str]) -> list[str]:
    """Lines above the first quote header or Outlook history block that has text above it."""
    for i, line in enumerate(lines):
        if not any(prev.strip() for prev in lines[:i]):
            continue
        joined = ""
        for nxt in lines[i : i + 3]:
            joined = joined[:-1] + nxt if joined.endswith("=") else f"{joined} {nxt}".strip()
            if _QUOTE_HEADER_RE.fullmatch(joined) and not _interleaved(lines[i + 1 :]):
                return lines[:i]
        if _ORIGINAL_RE.match(line):
            return lines[:i]
        if _FROM_RE.match(line) and any(_SENT_RE.match(n) for n in lines[i + 1 : i + 4]):
            return lines[:i]
    return lines


def _strip_closing(lines: list[str]) -> list[str]:
    """Remove a trailing device footer, a valediction plus name lines, then a trailing signature."""
    lines = _strip_footer(lines)
    content = [i for i, line in enumerate(lines) if line.strip()]
    for i in reversed(content[1:]):
        if _VALEDICTION_RE.match(lines[i].strip()):
            tail = [line for line in lines[i + 1 :] if line.strip()]
            if len(tail) <= 3 and all(len(line.strip()) <= 40 for line in tail):
                return _strip_footer(lines[:i])
            break
    return _strip_signature(lines)


def _strip_footer(lines: list[str]) -> list[str]:
    """Drop trailing device footers (and any separator line above one)."""
    lines = _trim(lines)
    while len(lines) > 1 and device_footer(lines[-1]):
        lines = _trim(lines[:-1])
        if lines and _SEPARATOR_RE.match(lines[-1]):
            lines = _trim(lines[:-1])
    return lines


def _strip_signature(lines: list[str]) -> list[str]:
    """A trailing block set apart by a blank line that is a signature: a name line followed by
    at most five short lines of which one is contact data (e-mail, phone, web), or contact data
    alone."""
    text = "\n".join(lines).rstrip()
    head, sep, block = text.rpartition("\n\n")
    block_lines = [line.strip() for line in block.splitlines() if line.strip()]
    if not sep or not head.strip() or not block_lines or len(block_lines) > 6:
        return lines
    if any(len(line) > 60 for line in block_lines):
        return lines
    contacts = sum(1 for line in block_lines if _CONTACT_RE.search(line))
    named = _NAME_RE.match(block_lines[0]) is not None and len(block_lines) >= 2
    if contacts >= 2 or (named and contacts >= 1):
        return _strip_footer(head.splitlines())
    return lines


def _trim(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def _cut_at_quote(lines: list[str], quote_start: str | None) -> list[str]:
    """Cut where the HTML part says the quote starts, with the attribution line above it: the
    plain-text part of a webmail reply often quotes without ``>``."""
    wanted = " ".join((quote_start or "").split())[:60]
    if len(wanted) < 8:
        return lines
    for i, line in enumerate(lines):
        if i and " ".join(line.lstrip("> ").split()).startswith(wanted):
            above = _trim(lines[:i])
            if above and above[-1].rstrip().endswith(":") and re.search(r"\d|@", above[-1]):
                above = _trim(above[:-1])
            return above if any(line.strip() for line in above) else lines
    return lines


def extract_reply(text: str, html: str | None = None, quote_start: str | None = None) -> str:
    """Return only the new text of a reply; HTML is used when there is no plain text.

    `quote_start` is the first quoted line of the mail's HTML part
    (`ParsedEmail.quote_start`), when it has one.
    """
    if not text.strip() and html:
        text = html_to_text(html)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _cut_at_quote(lines, quote_start)
    visible = _Reply("\n".join(_cut_history(lines))).read().reply
    return "\n".join(_strip_closing(visible.split("\n"))).strip()
