"""Build the outgoing MIME message for a ticket: threading headers, reply address, loop guards.

Every header value passes through `_one_line`, so a customer value containing CR or LF can never
start a header of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from ticketbridge import mailpolicy
from ticketbridge.outbox.render import RenderedEmail

MAX_REFERENCES = 20


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
    """`thread` is the ticket's earlier Message-IDs, oldest first; the newest is answered."""
    message = EmailMessage(policy=mailpolicy.SMTP)
    subject = _one_line(rendered.subject)
    tag = f"[{reference}]"
    message["Subject"] = subject if tag in subject else f"{tag} {subject}"
    from_name, from_address = parseaddr(mail_from)
    message["From"] = Address(display_name=_one_line(from_name), addr_spec=from_address)
    message["To"] = Address(display_name=_one_line(to_name), addr_spec=_one_line(to_address))
    message["Reply-To"] = reply_to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    if thread:
        message["In-Reply-To"] = thread[-1]
        message["References"] = " ".join(thread[-MAX_REFERENCES:])
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Ticketbridge-Reference"] = reference
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
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


@dataclass(frozen=True)
class Composed:
    """A composed email's bytes and the headers its Message row repeats."""

    raw: bytes
    subject: str
    in_reply_to: str | None
    references: str | None


def compose_drafts(drafts: Sequence[Draft]) -> list[Composed]:
    """Compose and serialise each draft: most of the cost of queueing an email."""
    return [_composed(draft) for draft in drafts]


def _composed(draft: Draft) -> Composed:
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
    in_reply_to, references = mime["In-Reply-To"], mime["References"]
    return Composed(
        mime.as_bytes(),
        str(mime["Subject"]),
        None if in_reply_to is None else str(in_reply_to),
        None if references is None else str(references),
    )


def new_message_id(reference: str, domain: str) -> str:
    return make_msgid(idstring=reference, domain=domain)


def _one_line(value: str) -> str:
    return " ".join(value.split())
