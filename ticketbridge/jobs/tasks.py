"""Job bodies. Each takes an id, reads what to do from the database, and may run any number of
times; each owns the transactions of its job.

rq calls the module-level functions (`advance_ticket`, `fire_timer`, `deliver_email`, and the
batch job `jobs.queue.pump`) in a worker whose `Tasks` were installed at start; the in-process
queue calls `Tasks` directly.
`now` is a parameter for the simulator and tests, which move the clock; jobs use the real one.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import CursorResult, Select, select, update
from sqlalchemy.orm import Session, selectinload

from ticketbridge.actors import SYSTEM
from ticketbridge.clock import utcnow
from ticketbridge.db import Database
from ticketbridge.errors import DeliveryError, RuleViolation, TicketbridgeError
from ticketbridge.outbox.models import OutboxStatus
from ticketbridge.outbox.senders import Sender
from ticketbridge.outbox.service import claim, record_results
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.engine import Engine
from ticketbridge.workflow.models import WorkflowTimer

log = logging.getLogger(__name__)
STEP_RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30))
BATCH = 20
"""Tickets (and emails) one batch takes at most. A demo request's advance costs ~40 ms here
(about 18 statements, the outcome email rendered and composed), the batch's own cost (rq job,
commits, claim) ~20 ms: 20 pays that over many while a batch holds its tickets' row locks (a
staff action on one of them waits) and their emails for about a second, not several."""
BATCH_LOADS = (Ticket.license, Ticket.customer, Ticket.messages)
"""What every advance reads (guards, steps, emails): one query each for the whole batch."""


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
        """Take one ticket's due automatic transitions (see `advance_due`, which does this for a
        batch); a ticket that is not due, or no longer, is left alone."""
        self._advance(now or utcnow(), ids=[ticket_id])

    def advance_due(self, now: dt.datetime | None = None, *, limit: int = BATCH) -> int:
        """Advance up to `limit` due tickets, oldest first, in one transaction; returns how many
        were claimed."""
        return self._advance(now or utcnow(), limit=limit)

    def _advance(
        self, now: dt.datetime, *, ids: Sequence[int] | None = None, limit: int | None = None
    ) -> int:
        """Lock the due tickets, skipping those another worker holds, and take each one's
        automatic transitions inside its own savepoint. A ticket whose step fails rolls back only
        its own work and has the failure counted with a retry time, in the same commit.

        `next_run_at` is cleared in the transaction that advances the ticket, so the same job run
        twice, or two workers at once, apply the transitions once.
        """
        with self.db.transaction() as session:
            tickets = session.scalars(
                due_tickets(now, ids=ids, limit=limit)
                .with_for_update(skip_locked=True)
                .options(*(selectinload(r) for r in BATCH_LOADS))
            ).all()
            for ticket in tickets:
                try:
                    with session.begin_nested():
                        self.engine.advance(session, ticket, now=now)
                        ticket.next_run_at, ticket.failures, ticket.last_error = None, 0, None
                except Exception as exc:
                    if not isinstance(exc, TicketbridgeError):
                        log.exception("advancing ticket %s failed", ticket.id)
                    count_failure(session, ticket, exc, now)
        return len(tickets)

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
            with self.db.transaction() as session:
                retry_at = count_failure(
                    session, session.get_one(Ticket, ticket_id, with_for_update=True), exc, now
                )
                timer = session.get_one(WorkflowTimer, timer_id)
                timer.attempts += 1
                if retry_at is None:
                    timer.cancelled_at = now
                else:
                    timer.due_at = retry_at

    def deliver_email(self, outbox_id: int, now: dt.datetime | None = None) -> OutboxStatus | None:
        """Send one outbox email if it is due and unclaimed; safe to call any number of times.
        None when it was not ours to send (sent already, claimed by another worker, not due)."""
        return self.deliver_emails([outbox_id], now).get(outbox_id)

    def deliver_emails(
        self, outbox_ids: Sequence[int], now: dt.datetime | None = None
    ) -> dict[int, OutboxStatus]:
        """Send those of the emails that are due and unclaimed, as one batch (`_deliver`)."""
        return self._deliver(now or utcnow(), ids=outbox_ids)

    def deliver_due(
        self, now: dt.datetime | None = None, *, limit: int = BATCH
    ) -> dict[int, OutboxStatus]:
        """Send up to `limit` due emails, oldest first, as one batch (`_deliver`)."""
        return self._deliver(now or utcnow(), limit=limit)

    def _deliver(
        self, now: dt.datetime, *, ids: Sequence[int] | None = None, limit: int | None = None
    ) -> dict[int, OutboxStatus]:
        """Claim a batch in one transaction, send it over the sender's one SMTP session, and
        write every outcome in one more; returns each claimed email's new status.

        The claims commit before the SMTP conversation and the results after it, so a crash in
        between leaves claims that expire, and the sweeper sends those emails again (at least
        once, with the same Message-ID). A refused email fails alone: the sender resets the
        session before the next one.
        """
        with self.db.transaction() as session:
            letters = claim(session, now, ids=ids, limit=limit)
        if not letters:
            return {}
        sent: list[int] = []
        failed: dict[int, DeliveryError] = {}
        for letter in letters:
            try:
                self.sender.send(
                    sender=self.mail_from,
                    recipient=letter.recipient,
                    raw=letter.raw,
                    name=letter.name,
                )
            except DeliveryError as exc:
                failed[letter.outbox_id] = exc
            else:
                sent.append(letter.outbox_id)
        with self.db.transaction() as session:
            return record_results(session, sent, failed, now)

    def pump(self, now: dt.datetime | None = None, *, limit: int = BATCH) -> bool:
        """One batch of whatever is due: advance up to `limit` tickets, then send up to `limit`
        emails (theirs among them) over one SMTP session. True when a limit was reached, so more
        may be waiting and the caller runs another batch."""
        started = time.perf_counter()
        advanced = self.advance_due(now, limit=limit)
        delivered = self.deliver_due(now, limit=limit)
        if advanced or delivered:
            log.info(
                "batch: advanced %d ticket(s), sent %d of %d email(s) in %.0f ms",
                advanced,
                sum(status is OutboxStatus.SENT for status in delivered.values()),
                len(delivered),
                (time.perf_counter() - started) * 1000,
            )
        return advanced >= limit or len(delivered) >= limit


def due_tickets(
    now: dt.datetime, *, ids: Sequence[int] | None = None, limit: int | None = None
) -> Select[tuple[Ticket]]:
    """Tickets whose automatic transitions are due (of `ids`, if given), oldest first."""
    due = select(Ticket).where(Ticket.next_run_at <= now).order_by(Ticket.next_run_at, Ticket.id)
    if ids is not None:
        due = due.where(Ticket.id.in_(ids))
    return due.limit(limit)


def count_failure(
    session: Session, ticket: Ticket, error: Exception, now: dt.datetime
) -> dt.datetime | None:
    """Count a failed step on the (locked) ticket, in the caller's transaction; returns when to
    retry, or None once staff must look."""
    message = (
        error.message
        if isinstance(error, TicketbridgeError)
        else f"{type(error).__name__}: {error}"
    )
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


def installed() -> Tasks:
    """This worker's tasks, for the functions rq calls."""
    if _installed is None:
        raise RuntimeError("no tasks installed in this worker; start it with `ticketbridge worker`")
    return _installed


def advance_ticket(ticket_id: int) -> None:
    installed().advance_ticket(ticket_id)


def fire_timer(timer_id: int) -> None:
    installed().fire_timer(timer_id)


def deliver_email(outbox_id: int) -> None:
    installed().deliver_email(outbox_id)
