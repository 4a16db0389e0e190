"""Threading, rule by rule: reply token, In-Reply-To/References, subject reference with a known
sender; a forged token is not trusted; a reply to a closed ticket reopens it or opens a linked
one, as its workflow says."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests.fixtures.dovecot import DovecotServer
from tests.foundation.helpers import open_request
from tests.mail.mailbuild import email, fetch_once, reply_to, sent_emails, tickets
from ticketbridge.actors import Actor
from ticketbridge.clock import utcnow
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Direction, Ticket

STRANGER = "Eve <eve@elsewhere.example>"


@pytest.fixture
def opened(
    make_mail_runtime, imap_mailbox: DovecotServer, db_url: str
) -> tuple[Runtime, EmailMessage]:
    """A general request opened by email, and the receipt that answered it."""
    runtime = make_mail_runtime(database_url=db_url)
    imap_mailbox.append(email(subject="Need help with our token"))
    fetch_once(runtime)
    [receipt] = sent_emails(runtime)
    return runtime, receipt


def inbound_on(ticket: Ticket) -> list[str]:
    return [m.text_body for m in ticket.messages if m.direction == Direction.INBOUND]


def deliver(imap_mailbox: DovecotServer, runtime: Runtime, raw: bytes) -> list[Ticket]:
    imap_mailbox.append(raw)
    assert fetch_once(runtime).total == 1
    return tickets(runtime)


def test_the_receipt_answers_the_customers_mail(opened) -> None:
    runtime, receipt = opened
    [ticket] = tickets(runtime)
    customer_mail = next(m for m in ticket.messages if m.direction == Direction.INBOUND)
    assert receipt["In-Reply-To"] == customer_mail.message_id
    assert receipt["Subject"] == "[LIC-000001] We received your request"
    assert (ticket.request_type, ticket.state, ticket.form_data["subject"]) == (
        "general",
        "received",
        "Need help with our token",
    )


def test_rule_1_reply_token_address_even_from_a_stranger_without_references(
    opened, imap_mailbox
) -> None:
    runtime, receipt = opened
    [ticket] = deliver(
        imap_mailbox,
        runtime,
        email(
            sender=STRANGER,
            to=str(receipt["Reply-To"]),
            subject="our server",
            text="Forwarded to me; here is the log.",
        ),
    )
    assert inbound_on(ticket)[-1] == "Forwarded to me; here is the log."
    assert ticket.events[-1].payload["matched_by"] == "reply address"


def test_rule_1_token_found_in_cc_and_delivered_to(opened, imap_mailbox) -> None:
    runtime, receipt = opened
    token = str(receipt["Reply-To"])
    [ticket] = deliver(
        imap_mailbox,
        runtime,
        email(sender=STRANGER, to="someone@acme.example", cc=token, text="cc"),
    )
    assert inbound_on(ticket)[-1] == "cc"
    [ticket] = deliver(
        imap_mailbox,
        runtime,
        email(
            sender=STRANGER,
            to="team@acme.example",
            headers={"Delivered-To": token},
            text="delivered",
        ),
    )
    assert inbound_on(ticket)[-1] == "delivered"


def test_a_forged_reply_token_is_not_trusted(opened, imap_mailbox) -> None:
    runtime, receipt = opened
    forged = str(receipt["Reply-To"]).replace(
        "support+LIC-000001.", "support+LIC-000001.0123456789"
    )
    first, second = deliver(
        imap_mailbox,
        runtime,
        email(sender=STRANGER, to=forged, subject="about LIC-000001", text="Let me in."),
    )
    assert inbound_on(first) == ["Hello, a question."]
    assert (second.customer.email, inbound_on(second)) == ("eve@elsewhere.example", ["Let me in."])


def test_rule_2_in_reply_to_and_references(opened, imap_mailbox) -> None:
    runtime, receipt = opened
    [ticket] = deliver(
        imap_mailbox,
        runtime,
        email(
            to="license@tickets.test",
            subject="no tag",
            text="by In-Reply-To",
            headers={"In-Reply-To": str(receipt["Message-ID"])},
        ),
    )
    assert ticket.events[-1].payload["matched_by"] == "In-Reply-To/References"
    references = f"<unrelated@acme.example> {receipt['Message-ID']} <later@acme.example>"
    [ticket] = deliver(
        imap_mailbox,
        runtime,
        email(
            sender=STRANGER,
            to="license@tickets.test",
            subject="Fwd: x",
            text="by References",
            headers={"References": references},
        ),
    )
    assert inbound_on(ticket)[-2:] == ["by In-Reply-To", "by References"]


def test_rule_3_subject_reference_needs_a_sender_known_on_the_ticket(opened, imap_mailbox) -> None:
    runtime, _ = opened
    [ticket] = deliver(
        imap_mailbox,
        runtime,
        email(to="license@tickets.test", subject="Re: [LIC-000001] again", text="known sender"),
    )
    assert ticket.events[-1].payload["matched_by"] == "subject reference and known sender"
    first, second = deliver(
        imap_mailbox,
        runtime,
        email(
            sender=STRANGER,
            to="license@tickets.test",
            subject="Re: [LIC-000001] me too",
            text="unknown sender",
        ),
    )
    assert inbound_on(first)[-1] == "known sender"
    assert inbound_on(second) == ["unknown sender"]


def test_a_reply_to_a_closed_general_request_reopens_it_as_its_workflow_says(
    opened, imap_mailbox
) -> None:
    runtime, receipt = opened
    with runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, 1)
        runtime.engine.fire_manual(
            session,
            ticket,
            "close",
            staff_role="admin",
            fields={},
            now=utcnow(),
            actor=Actor.staff("ana"),
        )
    [reopened] = deliver(
        imap_mailbox,
        runtime,
        reply_to(receipt, sender="Olga Nowak <ops@acme.example>", text="One more thing."),
    )
    assert (reopened.state, reopened.outcome) == ("received", None)
    assert inbound_on(reopened) == ["Hello, a question.", "One more thing."]
    assert [e.kind for e in reopened.events][-2:] == ["reopened", "email_received"]


def test_a_reply_to_a_closed_demo_opens_a_linked_general_request(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    open_request(
        runtime,
        "demo",
        {
            "token": "SRV-7f3a9c2e51",
            "customer_name": "Olga Nowak",
            "customer_email": "ops@acme.example",
            "accept_conditions": "on",
        },
    )
    [outcome] = sent_emails(runtime)
    closed, follow_up = deliver(
        imap_mailbox,
        runtime,
        reply_to(outcome, sender="Olga Nowak <ops@acme.example>", text="One more thing."),
    )
    assert closed.is_closed and closed.request_type == "demo" and inbound_on(closed) == []
    assert (follow_up.request_type, inbound_on(follow_up)) == ("general", ["One more thing."])
    assert follow_up.form_data["follows"] == "LIC-000001"
    assert (
        closed.events[-1].kind == "reply_after_close" and "LIC-000002" in closed.events[-1].summary
    )
    assert any(e.kind == "follows" and "LIC-000001" in e.summary for e in follow_up.events)
    assert (
        "earlier request LIC-000001" in sent_emails(runtime)[-1].get_body(("plain",)).get_content()
    )
