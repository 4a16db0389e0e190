"""Inbound mail that is on no ticket, for staff: what it is, what it says and why it opened none.

Classification decides whether we answer a mail and whether it moves a workflow, never whether
it is kept or seen (issue 12). Most mail lands on a ticket; what does not — an out-of-office
reply or a bounce that matches none, a mail with no sender address, a mail kept because
`unmatched_mail = "ignore"`, a quarantined one — is listed here with the reason, for the staff
app and for `ticketbridge tickets export --with-mail-on-no-ticket`. Sender, subject and text
are decoded from the kept raw bytes with the intake's own parser, which never raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ticketbridge.db import Database
from ticketbridge.intake.email.parse import parse_message
from ticketbridge.intake.email.reply import extract_reply
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus

MAX_TEXT = 4000


@dataclass(frozen=True)
class MailOnNoTicket:
    """One kept message on no ticket, as staff see it; `why` is the reason (or the error)."""

    id: int
    mailbox: str
    folder: str
    uidvalidity: int | None
    uid: int
    message_id: str | None
    sender: str
    subject: str
    kind: str
    status: InboundStatus
    why: str
    text: str
    received_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "record": "mail_on_no_ticket",
            "id": self.id,
            "mailbox": self.mailbox,
            "folder": self.folder,
            "uidvalidity": self.uidvalidity,
            "uid": self.uid,
            "message_id": self.message_id,
            "from": self.sender,
            "subject": self.subject,
            "kind": self.kind,
            "status": self.status.value,
            "why": self.why,
            "text": self.text,
            "received_at": self.received_at.isoformat(),
        }


def mail_on_no_ticket(
    db: Database,
    *,
    statuses: Collection[InboundStatus] = (),
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[MailOnNoTicket]:
    """Kept messages on no ticket, oldest first; only `statuses` when given, only received at
    or after `since` when given."""
    query = select(InboundEmail).where(InboundEmail.ticket_id.is_(None)).order_by(InboundEmail.id)
    if statuses:
        query = query.where(InboundEmail.status.in_(list(statuses)))
    if since is not None:
        query = query.where(InboundEmail.received_at >= since)
    with db.transaction() as session:
        return [_shown(row) for row in session.scalars(query.limit(limit))]


def _shown(row: InboundEmail) -> MailOnNoTicket:
    parsed = parse_message(row.raw)
    sender = (
        f"{parsed.from_name} <{parsed.from_address}>" if parsed.from_name else parsed.from_address
    )
    # A quarantined mail broke the pipeline once: it is shown whole, not through it again.
    quarantined = row.status == InboundStatus.QUARANTINED
    text = (
        "" if quarantined else extract_reply(parsed.text, parsed.html, parsed.quote_start)
    ) or parsed.text.strip()
    return MailOnNoTicket(
        row.id,
        row.mailbox,
        row.folder,
        row.uidvalidity,
        row.uid,
        row.header_message_id,
        sender,
        parsed.subject,
        row.kind,
        row.status,
        row.note,
        text[:MAX_TEXT],
        row.received_at,
    )
