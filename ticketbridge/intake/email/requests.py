"""Open a general request from an email that matched no open ticket.

Like a form submission (intake.service.submit_request), through the same `open_ticket`, but
without the form: the sender is the customer, the mail's new text the description. There is
no server token and no accepted conditions to check (R1 lets a general request go without a
token), and no submission id: the inbound dedupe key already guarantees one ticket per message.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ticketbridge.customers.models import Customer
from ticketbridge.customers.service import customer_for
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.service import open_ticket
from ticketbridge.workflow.engine import Engine

REQUEST_TYPE = "general"


def open_general_request(
    session: Session,
    engine: Engine,
    *,
    sender: str,
    sender_name: str,
    subject: str,
    description: str,
    now: dt.datetime,
    follows: Ticket | None = None,
    customers: dict[str, Customer] | None = None,
) -> Ticket:
    """Create and start the ticket in the caller's transaction; `follows` is a closed ticket it
    continues.

    Nothing is flushed here, so a batch of mails inserts its tickets together; `customers` is
    the batch's customer lookup (see `customer_for`).
    """
    customer = customer_for(session, email=sender, name=sender_name or sender, known=customers)
    form = {
        "customer_email": customer.email,
        "customer_name": customer.name,
        "token": None,
        "description": description,
        "subject": subject,
        "source": "email",
    }
    if follows is not None:
        form["follows"] = follows.reference
    license = follows.license if follows is not None else None
    return open_ticket(
        session,
        engine,
        request_type=REQUEST_TYPE,
        customer=customer,
        license=license,
        form=form,
        now=now,
    )
