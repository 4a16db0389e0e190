"""The sweeper: re-enqueue whatever the database says is due, so a lost job (a Redis flush, a
crashed worker) only delays work and never loses it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from ticketbridge.outbox.service import due_emails
from ticketbridge.tickets.models import Ticket

if TYPE_CHECKING:
    from ticketbridge.services import Services


@dataclass(frozen=True)
class SweepReport:
    tickets: int
    emails: int


def sweep(services: Services, now: dt.datetime) -> SweepReport:
    with services.db.transaction() as session:
        tickets = list(session.scalars(select(Ticket.id).where(Ticket.next_run_at <= now).order_by(Ticket.next_run_at)))
        emails = due_emails(session, now)
    for ticket_id in tickets:
        services.jobs.enqueue("advance_ticket", ticket_id)
    for outbox_id in emails:
        services.jobs.enqueue("deliver_email", outbox_id)
    return SweepReport(tickets=len(tickets), emails=len(emails))
