"""Quarantined inbound mail, for staff: what is held and why, and a retry once the cause is fixed.

The fetcher quarantines a message it cannot store (raw bytes and error kept, never fetched
again), so one bad message never blocks the ones behind it. Staff need to see those messages
with enough to recognise them (sender, subject, where it came from), and, once the bug or the
configuration behind the error is fixed, to store them like any other mail without touching
the IMAP server: the raw bytes are already in the database.

A retry runs the message through the same ingestion as the fetcher, in one transaction, and
keeps the quarantined row's id: the row becomes the stored message's row (its status, ticket
and note), so an id staff noted down still finds the message. A message that fails again
stays quarantined with the new error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ticketbridge.db import Database
from ticketbridge.errors import Conflict, NotFound
from ticketbridge.intake.email.ingest import FetchedMail, Ingestor, Outcome
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus
from ticketbridge.intake.unticketed import MailOnNoTicket, mail_on_no_ticket
from ticketbridge.tickets.models import Ticket


@dataclass(frozen=True)
class RetryResult:
    """What a retry did: `status` quarantined means the message failed again, with `note` as the new
    error."""

    id: int
    status: InboundStatus
    ticket: str | None
    note: str

    @property
    def still_quarantined(self) -> bool:
        return self.status == InboundStatus.QUARANTINED

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "ticket": self.ticket,
            "note": self.note,
        }


def list_quarantined(db: Database) -> list[MailOnNoTicket]:
    """Every quarantined message, oldest first; `why` is its error."""
    return mail_on_no_ticket(db, statuses=[InboundStatus.QUARANTINED])


def retry_quarantined(
    session: Session,
    inbound_id: int,
    now: dt.datetime,
    *,
    ingestor_for: Callable[[str], Ingestor],
) -> RetryResult:
    """Ingest a quarantined message again from its kept bytes, in the caller's transaction; the
    row keeps its id either way. `ingestor_for` gives the ingestor of the row's mailbox.

    The row's dedupe key is parked for the duration, or the ingestion would take the message
    for one already stored; the row that the ingestion writes is then folded into the
    quarantined one, so the mailbox keeps exactly one row per message.
    """
    row = _quarantined(session, inbound_id)
    key = row.dedupe_key
    row.dedupe_key = _parked_key(row)
    session.flush()
    newest = session.scalar(select(func.max(InboundEmail.id))) or 0
    [outcome] = ingestor_for(row.mailbox).ingest(
        session, [FetchedMail(row.folder, row.uid, row.raw, row.uidvalidity)], now
    )
    written = session.scalars(
        select(InboundEmail).where(
            InboundEmail.id > newest,
            InboundEmail.mailbox == row.mailbox,
            InboundEmail.folder == row.folder,
            InboundEmail.uid == row.uid,
        )
    ).one_or_none()
    _fold(session, row, written, key, outcome)
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    return RetryResult(
        row.id, row.status, ticket.reference if ticket is not None else None, row.note
    )


def _quarantined(session: Session, inbound_id: int) -> InboundEmail:
    row = session.get(InboundEmail, inbound_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no inbound message {inbound_id}")
    if row.status != InboundStatus.QUARANTINED:
        raise Conflict(
            f"inbound message {inbound_id} is not quarantined (it is {row.status.value})"
        )
    return row


def _parked_key(row: InboundEmail) -> str:
    """A key no message can have; the row keeps it only if the retry finds the message stored under
    its own."""
    return f"retried:{row.id}"


def _fold(
    session: Session, row: InboundEmail, written: InboundEmail | None, key: str, outcome: Outcome
) -> None:
    """Move what the ingestion wrote onto the quarantined row, and drop the row it wrote."""
    if written is None:
        row.status, row.note = outcome.status, outcome.note
        return
    if outcome.status == InboundStatus.QUARANTINED:
        status, kind, ticket_id, message_row_id, new_key = (
            InboundStatus.QUARANTINED,
            row.kind,
            None,
            None,
            key,
        )
    else:
        status, kind, ticket_id, message_row_id, new_key = (
            written.status,
            written.kind,
            written.ticket_id,
            written.message_row_id,
            written.dedupe_key,
        )
    note = written.note
    session.delete(written)
    session.flush()
    row.status, row.kind, row.ticket_id, row.message_row_id, row.dedupe_key, row.note = (
        status,
        kind,
        ticket_id,
        message_row_id,
        new_key,
        note,
    )
