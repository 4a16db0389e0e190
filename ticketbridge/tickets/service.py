"""Opening a ticket: the one path every intake (web form, email) takes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.customers.models import Customer, clean_name
from ticketbridge.licenses.models import License
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.workflow.engine import Engine


def open_ticket(
    session: Session,
    engine: Engine,
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
    Nothing is flushed here, so a batch of mails inserts its tickets together; the engine marks
    it due when its initial state has automatic transitions.
    """
    ticket = Ticket(
        request_type=request_type,
        customer=customer,
        customer_name=clean_name(str(form.get("customer_name") or customer.name)),
        license=license,
        form_data=form,
        submission_id=submission_id,
        waiting_on=WaitingOn.SYSTEM,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    engine.start(session, ticket, now=now, actor=Actor.customer(customer.email))
    return ticket
