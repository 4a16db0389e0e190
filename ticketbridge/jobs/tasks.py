"""Job bodies. Each takes an id, reads what to do from the database, and may run any number of
times.

rq calls the module-level functions (`advance_ticket`, `fire_timer`, `deliver_email`) in a
worker whose services were installed at start; the in-process queue calls `TASKS` directly.
`now` is a parameter for the simulator and tests, which move the clock; jobs use the real one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import CursorResult, select, update

from ticketbridge.clock import utcnow
from ticketbridge.errors import RuleViolation, TicketbridgeError
from ticketbridge.outbox.service import deliver
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.models import WorkflowTimer

if TYPE_CHECKING:
    from ticketbridge.services import Services

log = logging.getLogger(__name__)
STEP_RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30))
_installed: Services | None = None


def install(services: Services) -> None:
    """Give this worker process its services; rq job functions receive ids only."""
    global _installed
    _installed = services


def _services() -> Services:
    if _installed is None:
        raise RuntimeError(
            "no services installed in this worker; start it with `ticketbridge worker`"
        )
    return _installed


def run_advance(services: Services, ticket_id: int, now: dt.datetime | None = None) -> None:
    """Take the ticket's due automatic transitions; a failure rolls them back and schedules a retry.

    The ticket row is locked first, and `next_run_at` is cleared in the same transaction, so the
    same job run twice, or by two workers at once, applies the transitions once.
    """
    now = now or utcnow()
    try:
        with services.db.transaction() as session:
            ticket = session.scalars(
                select(Ticket).where(Ticket.id == ticket_id).with_for_update()
            ).one_or_none()
            if ticket is None or ticket.next_run_at is None or ticket.next_run_at > now:
                return
            services.engine.advance(session, ticket, now=now)
            ticket.next_run_at, ticket.failures, ticket.last_error = None, 0, None
    except Exception as exc:
        if not isinstance(exc, TicketbridgeError):
            log.exception("advancing ticket %s failed", ticket_id)
        _record_failure(services, ticket_id, exc, now)


def run_timer(services: Services, timer_id: int, now: dt.datetime | None = None) -> None:
    """Fire one due timer. The claim (`fired_at`, set by an atomic UPDATE that only an unfired,
    uncancelled, due row passes) commits with the transition, so two sweepers or a repeated job
    fire it once, and a failing step rolls the claim back for a retry with back-off."""
    now = now or utcnow()
    with services.db.transaction() as session:
        ticket_id = session.scalar(
            select(WorkflowTimer.ticket_id).where(WorkflowTimer.id == timer_id)
        )
    if ticket_id is None:
        return
    try:
        with services.db.transaction() as session:
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
            services.engine.fire_timer(
                session, ticket, session.get_one(WorkflowTimer, timer_id), now=now
            )
    except Exception as exc:
        if not isinstance(exc, TicketbridgeError):
            log.exception("timer %s of ticket %s failed", timer_id, ticket_id)
        retry_at = _record_failure(services, ticket_id, exc, now)
        with services.db.transaction() as session:
            timer = session.get_one(WorkflowTimer, timer_id)
            timer.attempts += 1
            if retry_at is None:
                timer.cancelled_at = now
            else:
                timer.due_at = retry_at


def _record_failure(
    services: Services, ticket_id: int, error: Exception, now: dt.datetime
) -> dt.datetime | None:
    """Count the failure on the ticket; returns when to retry, or None once staff must look."""
    message = (
        error.message
        if isinstance(error, TicketbridgeError)
        else f"{type(error).__name__}: {error}"
    )
    with services.db.transaction() as session:
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
            actor="system",
            kind="step_failed",
            summary=summary,
            payload={"error": message, "failures": ticket.failures},
            now=now,
        )
        return ticket.next_run_at


def run_deliver(services: Services, outbox_id: int) -> None:
    deliver(services, outbox_id, utcnow())


TASKS: dict[str, Callable[[Services, int], None]] = {
    "advance_ticket": run_advance,
    "fire_timer": run_timer,
    "deliver_email": run_deliver,
}


def advance_ticket(ticket_id: int) -> None:
    run_advance(_services(), ticket_id)


def fire_timer(timer_id: int) -> None:
    run_timer(_services(), timer_id)


def deliver_email(outbox_id: int) -> None:
    run_deliver(_services(), outbox_id)
