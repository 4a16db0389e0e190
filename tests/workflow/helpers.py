"""What the workflow tests share: submitting a request, firing a staff action and reading a
ticket's timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.foundation.helpers import open_request
from ticketbridge.actors import Actor
from ticketbridge.clock import utcnow
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket, TicketEvent
from ticketbridge.workflow.models import WorkflowTimer

CUSTOMER = {
    "customer_name": "Acme Contact Center",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
}


def submit(runtime: Runtime, request_type: str, token: str = "SRV-7f3a9c2e51", **form: Any) -> int:
    return open_request(runtime, request_type, {**CUSTOMER, "token": token, **form})


def manual(
    runtime: Runtime, ticket_id: int, name: str, role: str = "agent", **fields: object
) -> None:
    with runtime.db.transaction() as session:
        runtime.engine.fire_manual(
            session,
            session.get_one(Ticket, ticket_id),
            name,
            staff_role=role,
            fields=fields,
            now=utcnow(),
            actor=Actor.staff("ann@team.example"),
        )


def ticket(runtime: Runtime, ticket_id: int) -> Ticket:
    with runtime.db.transaction() as session:
        return session.get_one(Ticket, ticket_id)


def events(runtime: Runtime, ticket_id: int, kind: str | None = None) -> list[TicketEvent]:
    with runtime.db.transaction() as session:
        query = (
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        if kind is not None:
            query = query.where(TicketEvent.kind == kind)
        return list(session.scalars(query))


def timers(runtime: Runtime, ticket_id: int) -> list[WorkflowTimer]:
    with runtime.db.transaction() as session:
        return list(
            session.scalars(
                select(WorkflowTimer)
                .where(WorkflowTimer.ticket_id == ticket_id)
                .order_by(WorkflowTimer.id)
            )
        )
