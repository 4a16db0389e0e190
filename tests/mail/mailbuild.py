"""Build the emails the mail tests send through Dovecot, and settings that point at it."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import select

from tests.fixtures.dovecot import DovecotServer
from tests.foundation.helpers import kept_emails
from ticketbridge.clock import utcnow
from ticketbridge.intake.mailbox.fetcher import FetchReport
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket


def imap_settings(server: DovecotServer, **changes: Any) -> dict[str, Any]:
    return {
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_user": server.user,
        "imap_password": server.password,
        "imap_tls": "none",
        "imap_poll_seconds": 1,
        **changes,
    }


def email(
    *,
    sender: str = "Olga Nowak <ops@acme.example>",
    to: str = "license@tickets.test",
    subject: str = "Question about our license",
    text: str | None = "Hello, a question.",
    html: str | None = None,
    cc: str | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = "",
) -> bytes:
    """A customer's email; message_id "" makes a fresh one, None leaves the header out."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    if message_id is not None:
        message["Message-ID"] = message_id or make_msgid(domain="acme.example")
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    else:
        message.set_content(html or "", subtype="html")
    return message.as_bytes()


def reply_to(
    outbound: EmailMessage,
    *,
    sender: str,
    text: str | None,
    html: str | None = None,
    cc: str | None = None,
    to: str | None = None,
) -> bytes:
    """What a mail client sends when the customer answers `outbound`: Reply-To, Re: subject,
    threading."""
    return email(
        sender=sender,
        to=to or str(outbound["Reply-To"]),
        cc=cc,
        subject=f"Re: {outbound['Subject']}",
        text=text,
        html=html,
        headers={
            "In-Reply-To": str(outbound["Message-ID"]),
            "References": str(outbound["Message-ID"]),
        },
    )


def fetch_once(runtime: Runtime, **kwargs: Any) -> FetchReport:
    return runtime.fetcher(**kwargs).run(once=True)


def tickets(runtime: Runtime) -> list[Ticket]:
    with runtime.db.transaction() as session:
        found = list(session.scalars(select(Ticket).order_by(Ticket.id)))
        for ticket in found:
            _ = ticket.messages, ticket.events, ticket.customer
        return found


def sent_emails(runtime: Runtime) -> list[EmailMessage]:
    """What the embedded FolderSender delivered, oldest first."""
    return kept_emails(runtime.settings.mail_folder)
