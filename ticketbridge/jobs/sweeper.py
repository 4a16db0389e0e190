"""The sweeper: re-enqueue whatever the database says is due, so a lost job (a Redis flush, a
crashed worker, a pump flag whose job is gone) only delays work and never loses it. On rq, due
tickets and emails wake the batch job (`jobs.queue`), whatever their number. Timers live only
in the database, so the sweeper is what fires them; a timer enqueued twice is still fired once
(see `Tasks.fire_timer`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select

from ticketbridge.db import Database
from ticketbridge.jobs.queue import JobQueue
from ticketbridge.outbox.service import due_emails
from ticketbridge.tickets.models import Ticket
from ticketbridge.workflow.models import WorkflowTimer


@dataclass(frozen=True)
class SweepReport:
    tickets: int
    timers: int
    emails: int


def sweep(db: Database, jobs: JobQueue, now: dt.datetime) -> SweepReport:
    with db.transaction() as session:
        tickets = list(
            session.scalars(
                select(Ticket.id).where(Ticket.next_run_at <= now).order_by(Ticket.next_run_at)
            )
        )
        timers = list(session.scalars(due_timers(now)))
        emails = due_emails(session, now)
    jobs.enqueue_many("advance_ticket", tickets)
    jobs.enqueue_many("fire_timer", timers)
    jobs.enqueue_many("deliver_email", emails)
    return SweepReport(tickets=len(tickets), timers=len(timers), emails=len(emails))


def due_timers(now: dt.datetime) -> Select[tuple[int]]:
    return (
        select(WorkflowTimer.id)
        .where(
            WorkflowTimer.fired_at.is_(None),
            WorkflowTimer.cancelled_at.is_(None),
            WorkflowTimer.due_at <= now,
        )
        .order_by(WorkflowTimer.due_at)
    )
