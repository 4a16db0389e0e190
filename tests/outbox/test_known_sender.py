"""Issue 8.4: a [LIC-…] subject joins a ticket only for a sender known on it, compared as an
address (case aside), never as a LIKE pattern."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.outbox.mailin import inbound, ingest
from ticketbridge.tickets.models import Message, Ticket


def ticket_of(runtime, message_id: str) -> int:
    with runtime.db.transaction() as session:
        return session.scalars(
            select(Message.ticket_id).where(Message.message_id == message_id)
        ).one()


@pytest.fixture
def first_ticket(runtime) -> int:
    """LIC-000001, opened by ops@acme.example with colleague@acme.example in Cc."""
    raw = inbound("Olga <ops@acme.example>", "<first@acme.example>").replace(
        b"To: license@tickets.test", b"To: license@tickets.test\r\nCc: colleague@acme.example"
    )
    ingest(runtime, raw)
    return ticket_of(runtime, "<first@acme.example>")


@pytest.mark.parametrize(
    "sender",
    ["%@%", "%@acme.example", "o_s@acme.example", "_@_", "s@acme.example", "ops@acme.exampl"],
)
def test_a_pattern_or_part_of_an_address_is_not_a_known_sender(
    runtime, first_ticket, sender
) -> None:
    ingest(runtime, inbound(sender, "<probe@evil.example>", "[LIC-000001] let me in"))
    assert ticket_of(runtime, "<probe@evil.example>") != first_ticket
    with runtime.db.transaction() as session:
        assert (
            session.get_one(Ticket, first_ticket).messages[-1].message_id != "<probe@evil.example>"
        )


@pytest.mark.parametrize(
    "sender", ["ops@acme.example", "OPS@Acme.Example", "Colleague@ACME.example"]
)
def test_the_customer_or_a_cc_in_any_case_is_known(runtime, first_ticket, sender) -> None:
    ingest(runtime, inbound(sender, "<again@acme.example>", "[LIC-000001] one more thing"))
    assert ticket_of(runtime, "<again@acme.example>") == first_ticket
