"""Issue 8.4: a [LIC-…] subject joins a ticket only for a sender known on it, compared as an
address (case aside), never as a LIKE pattern."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.outbox.mailin import inbound, ingest
from ticketbridge.tickets.models import Message, Ticket


def ticket_of(services, message_id: str) -> int:
    with services.db.transaction() as session:
        return session.scalars(
            select(Message.ticket_id).where(Message.message_id == message_id)
        ).one()


@pytest.fixture
def first_ticket(services) -> int:
    """LIC-000001, opened by ops@acme.example with colleague@acme.example in Cc."""
    raw = inbound("Olga <ops@acme.example>", "<first@acme.example>").replace(
        b"To: license@tickets.test", b"To: license@tickets.test\r\nCc: colleague@acme.example"
    )
    ingest(services, raw)
    return ticket_of(services, "<first@acme.example>")


@pytest.mark.parametrize(
    "sender",
    ["%@%", "%@acme.example", "o_s@acme.example", "_@_", "s@acme.example", "ops@acme.exampl"],
)
def test_a_pattern_or_part_of_an_address_is_not_a_known_sender(
    services, first_ticket, sender
) -> None:
    ingest(services, inbound(sender, "<probe@evil.example>", "[LIC-000001] let me in"))
    assert ticket_of(services, "<probe@evil.example>") != first_ticket
    with services.db.transaction() as session:
        assert (
            session.get_one(Ticket, first_ticket).messages[-1].message_id != "<probe@evil.example>"
        )


@pytest.mark.parametrize(
    "sender", ["ops@acme.example", "OPS@Acme.Example", "Colleague@ACME.example"]
)
def test_the_customer_or_a_cc_in_any_case_is_known(services, first_ticket, sender) -> None:
    ingest(services, inbound(sender, "<again@acme.example>", "[LIC-000001] one more thing"))
    assert ticket_of(services, "<again@acme.example>") == first_ticket
