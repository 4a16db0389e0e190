"""Job bodies. Each takes an id, reads what to do from the database, and may run any number of
times; each owns the transactions of its job.

rq calls the module-level functions (`advance_ticket`, `fire_timer`, `deliver_email`) in a
worker whose `Tasks` were installed at start; the in-process queue calls `Tasks.run` directly.
`now` is a parameter for the simulator and tests, which move the clock; jobs use the real one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import CursorResult, select, update

from ticketbridge.actors import SYSTEM
from ticketbridge.clock import utcnow
from ticketbridge.db import Database
from ticketbridge.errors import DeliveryError, RuleViolation, TicketbridgeError
from ticketbridge.outbox.models import OutboxStatus
from ticketbridge.outbox.senders import Sender
from ticketbridge.outbox.service import claim, mark_sent, record_failure
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.engine import Engine
from ticketbridge.workflow.models import WorkflowTimer

log = logging.getLogger(__name__)
STEP_RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30))


class Tasks:
    """The job bodies with what they use: the database, the engine and the mail sender."""

    def __init__(self, db: Database, engine: Engine, sender: Sender, *, mail_from: str) -> None:
        self.db = db
        self.engine = engine
        self.sender = sender
        self.mail_from = mail_from

    def run(self, task: str, ident: int) -> None:
        """Run a job by its name, as an rq worker would."""
        JOBS[task](self, ident)

    def advance_ticket(self, ticket_id: int, now: dt.datetime | None = None) -> None:
        """Take the ticket's due automatic transitions; a failure rolls them back and schedules a
        retry.

        The ticket row is locked first, and `next_run_at` is cleared in the same transaction, so
        the same job run twice, or by two workers at once, applies the transitions once.
        """
        now = now or utcnow()
        try:
            with self.db.transaction() as session:
                ticket = session.scalars(
                    select(Ticket).where(Ticket.id == ticket_id).with_for_update()
                ).one_or_none()
                if ticket is None or ticket.next_run_at is None or ticket.next_run_at > now:
                    return
                self.engine.advance(session, ticket, now=now)
                ticket.next_run_at, ticket.failures, ticket.last_error = None, 0, None
        except Exception as exc:
            if not isinstance(exc, TicketbridgeError):
                log.exception("advancing ticket %s failed", ticket_id)
            self._record_failure(ticket_id, exc, now)

    def fire_timer(self, timer_id: int, now: dt.datetime | None = None) -> None:
        """Fire one due timer. The claim (`fired_at`, set by an atomic UPDATE that only an
        unfired, uncancelled, due row passes) commits with the transition, so two sweepers or a
        repeated job fire it once, and a failing step rolls the claim back for a retry with
        back-off."""
        now = now or utcnow()
        with self.db.transaction() as session:
            ticket_id = session.scalar(
                select(WorkflowTimer.ticket_id).where(WorkflowTimer.id == timer_id)
            )
        if ticket_id is None:
            return
        try:
            with self.db.transaction() as session:
                ticket = session.scalars(
                    select(Ticket).where(Ticket.id == ticket_id).with_for_update()
                ).one()
                claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                    update(WorkflowTimer)
                    .where(
                        WorkflowTimer.id == timer_id,
                        WorkflowTimer.fired_at.is_(None),
                        WorkflowTimer.cancelled_at.is_(None),
                        WorkflowTimer.due_at <= now,
                    )
                    .values(fired_at=now, attempts=WorkflowTimer.attempts + 1)
                )
                if claimed.rowcount != 1:
                    return
                self.engine.fire_timer(
                    session, ticket, session.get_one(WorkflowTimer, timer_id), now=now
                )
        except Exception as exc:
            if not isinstance(exc, TicketbridgeError):
                log.exception("timer %s of ticket %s failed", timer_id, ticket_id)
            retry_at = self._record_failure(ticket_id, exc, now)
            with self.db.transaction() as session:
                timer = session.get_one(WorkflowTimer, timer_id)
                timer.attempts += 1
                if retry_at is None:
                    timer.cancelled_at = now
                else:
                    timer.due_at = retry_at

    def deliver_email(self, outbox_id: int, now: dt.datetime | None = None) -> OutboxStatus | None:
        """Send one outbox email if it is due and unclaimed; safe to call any number of times.

        The claim commits before the SMTP conversation and the result after it, so a crash in
        between leaves a claim that expires and the sweeper sends again (at least once).
        """
        now = now or utcnow()
        with self.db.transaction() as session:
            letter = claim(session, outbox_id, now)
        if letter is None:
            return None
        try:
            self.sender.send(
                sender=self.mail_from, recipient=letter.recipient, raw=letter.raw, name=letter.name
            )
        except DeliveryError as exc:
            with self.db.transaction() as session:
                return record_failure(session, outbox_id, exc, now)
        with self.db.transaction() as session:
            mark_sent(session, outbox_id, now)
        return OutboxStatus.SENT

    def _record_failure(
        self, ticket_id: int, error: Exception, now: dt.datetime
    ) -> dt.datetime | None:
        """Count the failure on the ticket; returns when to retry, or None once staff must look."""
        message = (
            error.message
            if isinstance(error, TicketbridgeError)
            else f"{type(error).__name__}: {error}"
        )
        with self.db.transaction() as session:
            ticket = session.get_one(Ticket, ticket_id, with_for_update=True)
            ticket.failures += 1
            ticket.last_error = message
            hopeless = isinstance(error, RuleViolation) or ticket.failures > len(STEP_RETRY_DELAYS)
            if hopeless:
                ticket.next_run_at = None
                ticket.waiting_on = WaitingOn.STAFF
            else:
                ticket.next_run_at = now + STEP_RETRY_DELAYS[ticket.failures - 1]
            summary = f"Step failed in state {ticket.state}: {message}. " + (
                "Waiting for staff."
                if hopeless
                else f"Retry {ticket.failures} of {len(STEP_RETRY_DELAYS)} at "
                f"{ticket.next_run_at:%Y-%m-%d %H:%M} UTC."
            )
            record(
                session,
                ticket,
                actor=SYSTEM,
                kind="step_failed",
                summary=summary,
                payload={"error": message, "failures": ticket.failures},
                now=now,
            )
            return ticket.next_run_at


JOBS: dict[str, Callable[[Tasks, int], object]] = {
    "advance_ticket": Tasks.advance_ticket,
    "fire_timer": Tasks.fire_timer,
    "deliver_email": Tasks.deliver_email,
}
_installed: Tasks | None = None


def install(tasks: Tasks) -> None:
    """Give this worker process its tasks; rq job functions receive ids only."""
    global _installed
    _installed = tasks


def _tasks() -> Tasks:
    if _installed is None:
        raise RuntimeError("no tasks installed in this worker; start it with `ticketbridge worker`")
    return _installed


def advance_ticket(ticket_id: int) -> None:
    _tasks().advance_ticket(ticket_id)


def fire_timer(timer_id: int) -> None:
    _tasks().fire_timer(timer_id)


def deliver_email(outbox_id: int) -> None:
    _tasks().deliver_email(outbox_id)
