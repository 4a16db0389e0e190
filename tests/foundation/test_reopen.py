"""A reply to a closed ticket follows its workflow: reopen (general.yaml says so) or not
(demo.yaml)."""

from __future__ import annotations

from sqlalchemy import select

from tests.foundation.helpers import DEMO_FORM, open_request
from ticketbridge.actors import Actor
from ticketbridge.clock import utcnow
from ticketbridge.tickets.models import Ticket, TicketEvent, WaitingOn


def test_a_closed_general_request_reopens_in_the_state_its_workflow_names(runtime) -> None:
    ticket_id = open_request(
        runtime, "general", {**DEMO_FORM, "token": "", "description": "Please check our invoice."}
    )
    with runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        runtime.engine.fire_manual(
            session,
            ticket,
            "close",
            staff_role="agent",
            fields={},
            now=utcnow(),
            actor=Actor.staff("ann@team.example"),
        )
    with runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        assert ticket.outcome == "completed"
        assert (
            runtime.engine.reopen_on_reply(
                session, ticket, now=utcnow(), message_id="<r@acme.example>"
            )
            is True
        )
    with runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        [event] = session.scalars(select(TicketEvent).where(TicketEvent.kind == "reopened")).all()
        assert (ticket.state, ticket.outcome, ticket.closed_at, ticket.waiting_on) == (
            "received",
            None,
            None,
            WaitingOn.STAFF,
        )
        assert event.payload == {
            "to": "received",
            "was": "completed",
            "message_id": "<r@acme.example>",
        }


def test_a_closed_demo_is_not_reopened(runtime) -> None:
    ticket_id = open_request(runtime, "demo", DEMO_FORM)
    with runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        assert ticket.outcome == "completed"
        assert runtime.engine.reopen_on_reply(session, ticket, now=utcnow()) is False
        assert ticket.outcome == "completed"
