"""Build the outgoing MIME message for a ticket: threading headers, reply address, loop guards.

Every text value passes through `header_text`, so a customer's name or words can never start a
header, a recipient or a body of their own; earlier Message-IDs (an inbound one is the sender's
choice) are kept only in msg-id form. The serialised bytes are then parsed back
(`check_round_trip`): an email that would not read as we built it is refused, and that refusal
is that one email's failure, never its batch's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from ticketbridge import mailpolicy
from ticketbridge.errors import UnsafeHeader
from ticketbridge.mailaddress import needs_smtputf8
from ticketbridge.mailheaders import NAME_LENGTH, header_text
from ticketbridge.outbox.render import RenderedEmail
from ticketbridge.outbox.roundtrip import check_round_trip

MAX_REFERENCES = 20
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")


def compose(
    rendered: RenderedEmail,
    *,
    reference: str,
    mail_from: str,
    to_address: str,
    to_name: str,
    reply_to: str,
    message_id: str,
    thread: Sequence[str],
    now: dt.datetime,
) -> EmailMessage:
    """`thread` is the ticket's earlier Message-IDs, oldest first; the newest is answered.

    Mail to an address only SMTPUTF8 can carry is written with UTF-8 headers; all other mail
    stays 7-bit in its headers.
    """
    policy = mailpolicy.SMTPUTF8 if needs_smtputf8(to_address) else mailpolicy.SMTP
    message = EmailMessage(policy=policy)
    message["Subject"] = tagged_subject(rendered.subject, reference)
    from_name, from_address = parseaddr(mail_from)
    message["From"] = Address(display_name=header_text(from_name), addr_spec=from_address)
    local, _, domain = to_address.rpartition("@")
    # By parts: Address(addr_spec=) refuses a non-ASCII local part whatever the policy.
    message["To"] = Address(
        display_name=header_text(to_name, limit=NAME_LENGTH), username=local, domain=domain
    )
    message["Reply-To"] = Address(addr_spec=reply_to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    thread = [mid for mid in thread if _MESSAGE_ID.fullmatch(mid)]
    if thread:
        message["In-Reply-To"] = thread[-1]
        message["References"] = " ".join(thread[-MAX_REFERENCES:])
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Ticketbridge-Reference"] = reference
    # Quoted-printable keeps bodies 7-bit with short lines for any server, whatever the policy's
    # header line length.
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    return message


@dataclass(frozen=True)
class Draft:
    """What `compose` needs, as plain values, so that a helper process can compose it."""

    rendered: RenderedEmail
    reference: str
    mail_from: str
    to_address: str
    to_name: str
    reply_to: str
    message_id: str
    thread: tuple[str, ...]
    now: dt.datetime


def tagged_subject(subject: str, reference: str) -> str:
    """The subject as one line of text, with the ticket's [LIC-000123] so replies thread."""
    text, tag = header_text(subject), f"[{reference}]"
    return text if tag in text else f"{tag} {text}"


@dataclass(frozen=True)
class Composed:
    """A composed email's bytes and the headers its Message row repeats.

    `refused` says why the email could not be written safely; it is then never sent.
    """

    raw: bytes
    subject: str
    in_reply_to: str | None
    references: str | None
    refused: str | None = None


def compose_drafts(drafts: Sequence[Draft]) -> list[Composed]:
    """Compose and serialise each draft: most of the cost of queueing an email."""
    return [_composed(draft) for draft in drafts]


def _composed(draft: Draft) -> Composed:
    subject = tagged_subject(draft.rendered.subject, draft.reference)
    try:
        mime = compose(
            draft.rendered,
            reference=draft.reference,
            mail_from=draft.mail_from,
            to_address=draft.to_address,
            to_name=draft.to_name,
            reply_to=draft.reply_to,
            message_id=draft.message_id,
            thread=draft.thread,
            now=draft.now,
        )
        raw = mime.as_bytes()
        check_round_trip(mime, raw)
    except (UnsafeHeader, ValueError, MessageError) as exc:
        return Composed(b"", subject, None, None, refused=f"not sent, unsafe to write: {exc}")
    in_reply_to, references = mime["In-Reply-To"], mime["References"]
    return Composed(
        raw,
        subject,
        None if in_reply_to is None else str(in_reply_to),
        None if references is None else str(references),
    )


def new_message_id(reference: str, domain: str) -> str:
    return make_msgid(idstring=reference, domain=domain)
