"""Actors on the timeline and in the ledger read back typed, old rows included."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from tests.foundation.helpers import DEMO_FORM, open_request
from ticketbridge.actors import SYSTEM, TIMER, Actor, ActorKind
from ticketbridge.tickets.models import TicketEvent


@pytest.mark.parametrize(
    "actor", [Actor.customer("ops@acme.example"), Actor.staff("ann@team.example"), SYSTEM, TIMER]
)
def test_an_actor_reads_back_as_it_was_written(actor: Actor) -> None:
    assert Actor.parse(str(actor)) == actor


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("customer:ops@acme.example", Actor(ActorKind.CUSTOMER, "ops@acme.example")),
        ("system", SYSTEM),
        ("admin:cli", Actor.staff("admin:cli")),
        ("simulated staff", Actor.staff("simulated staff")),
        ("customer:", Actor.staff("customer:")),
    ],
)
def test_text_written_before_the_type_reads_back_typed(stored: str, read: Actor) -> None:
    assert Actor.parse(stored) == read


def test_the_timeline_keeps_the_text_and_returns_the_type(runtime) -> None:
    ticket_id = open_request(runtime, "demo", DEMO_FORM)
    with runtime.db.transaction() as session:
        session.execute(
            insert(TicketEvent).values(
                ticket_id=ticket_id, actor="admin:cli", kind="note", summary="old row", payload={}
            )
        )
    with runtime.db.transaction() as session:
        actors = session.scalars(
            select(TicketEvent.actor).where(TicketEvent.ticket_id == ticket_id)
        ).all()
        raw = session.execute(
            select(TicketEvent.__table__.c.actor).where(TicketEvent.ticket_id == ticket_id)
        ).all()
    assert actors[0] == Actor.customer("ops@acme.example")
    assert Actor.staff("admin:cli") in actors
    assert "customer:ops@acme.example" in {str(row[0]) for row in raw}
