"""Opening a ticket: the one path every intake (web form, email) takes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ticketbridge.customers.models import Customer
from ticketbridge.customers.service import clean_name
from ticketbridge.db import after_commit
from ticketbridge.licenses.models import License
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.workflow.definitions import TriggerKind

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ticketbridge.services import Services


def open_ticket(
    session: Session,
    services: Services,
    *,
    request_type: str,
    customer: Customer,
    license: License | None,
    form: dict[str, Any],
    now: dt.datetime,
    submission_id: str | None = None,
) -> Ticket:
    """Create the ticket in its workflow's initial state, in the caller's transaction.

    The ticket keeps the customer name its own request gave (`form["customer_name"]`): its
    emails greet that name even after a later request from the same address gives another.
    Nothing is flushed here, so a batch of mails inserts its tickets together. When the initial
    state has automatic transitions the ticket is marked due and its advance is enqueued once
    the transaction commits; a state that waits on staff or the customer needs no job.
    """
    workflow = services.workflows.current(request_type)
    automatic = bool(workflow.transitions_from(workflow.initial, TriggerKind.AUTOMATIC))
    ticket = Ticket(
        request_type=request_type,
        customer=customer,
        customer_name=clean_name(str(form.get("customer_name") or customer.name)),
        license=license,
        form_data=form,
        submission_id=submission_id,
        waiting_on=WaitingOn.SYSTEM,
        next_run_at=now if automatic else None,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    services.engine.start(session, ticket, now=now, actor=f"customer:{customer.email}")
    if automatic:
        after_commit(session, lambda: services.jobs.enqueue("advance_ticket", ticket.id))
    return ticket
