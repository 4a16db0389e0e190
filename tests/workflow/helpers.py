"""What the workflow tests share: submitting a request and reading a ticket's timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ticketbridge.intake.service import submit_request
from ticketbridge.services import Services
from ticketbridge.tickets.models import Ticket, TicketEvent
from ticketbridge.workflow.models import WorkflowTimer

CUSTOMER = {
    "customer_name": "Acme Contact Center",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
}


def submit(
    services: Services, request_type: str, token: str = "SRV-7f3a9c2e51", **form: Any
) -> int:
    return submit_request(services, request_type, {**CUSTOMER, "token": token, **form})


def ticket(services: Services, ticket_id: int) -> Ticket:
    with services.db.transaction() as session:
        return session.get_one(Ticket, ticket_id)


def events(services: Services, ticket_id: int, kind: str | None = None) -> list[TicketEvent]:
    with services.db.transaction() as session:
        query = (
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        if kind is not None:
            query = query.where(TicketEvent.kind == kind)
        return list(session.scalars(query))


def timers(services: Services, ticket_id: int) -> list[WorkflowTimer]:
    with services.db.transaction() as session:
        return list(
            session.scalars(
                select(WorkflowTimer)
                .where(WorkflowTimer.ticket_id == ticket_id)
                .order_by(WorkflowTimer.id)
            )
        )
