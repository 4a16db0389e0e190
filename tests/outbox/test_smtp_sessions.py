"""Issue 8.2 and 8.3: an address SMTP cannot carry fails its own email, never the next one.

All over one thread-kept SMTP session against a real aiosmtpd server, judged by its transcript.
"""

from __future__ import annotations

import smtplib

from sqlalchemy import select

from tests.foundation.helpers import post_demo
from tests.outbox.mailin import inbound, ingest
from ticketbridge.app import create_app
from ticketbridge.customers.models import Customer
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.tickets.models import Ticket, TicketEvent


def smtp_runtime(make_runtime, db_url, server):
    return make_runtime(database_url=db_url, smtp_host=server.host, smtp_port=server.port)


def outbox(runtime) -> list[tuple[str, OutboxStatus, str | None]]:
    with runtime.db.transaction() as session:
        return [
            (row.recipient, row.status, row.last_error)
            for row in session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
        ]


def test_idn_domain_is_stored_and_sent_in_its_ascii_form(
    make_runtime, db_url, transcript_server
) -> None:
    runtime = smtp_runtime(make_runtime, db_url, transcript_server)
    client = create_app(runtime=runtime).test_client()
    assert post_demo(client, customer_email="idn@Bücher.example").status_code == 303

    [message] = transcript_server.wait_for(1)
    assert transcript_server.transcript == [
        "MAIL <license@tickets.test>",
        "RCPT <idn@xn--bcher-kva.example>",
        "DATA",
    ]
    assert message["To"].addresses[0].addr_spec == "idn@xn--bcher-kva.example"
    with runtime.db.transaction() as session:
        assert session.scalars(select(Customer.email)).one() == "idn@xn--bcher-kva.example"


def test_non_ascii_sender_is_stored_and_its_receipt_fails_alone_without_smtputf8(
    make_runtime, db_url, transcript_server
) -> None:
    runtime = smtp_runtime(make_runtime, db_url, transcript_server)
    ingest(
        runtime,
        inbound("Ëve <ëve@example.com>", "<e1@example.com>"),
        inbound("Olga <ops@acme.example>", "<o1@acme.example>"),
    )

    [received] = transcript_server.wait_for(1)
    assert received["To"].addresses[0].addr_spec == "ops@acme.example"
    assert transcript_server.transcript == [
        "MAIL <license@tickets.test>",
        "RCPT <ops@acme.example>",
        "DATA",
    ], "nothing of the undeliverable email reached the server"
    [(eve, eve_status, eve_error), (olga, olga_status, _)] = outbox(runtime)
    assert (eve, eve_status, olga, olga_status) == (
        "ëve@example.com",
        OutboxStatus.FAILED,
        "ops@acme.example",
        OutboxStatus.SENT,
    )
    assert "SMTPUTF8" in eve_error and "ëve@example.com" in eve_error
    with runtime.db.transaction() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert [t.customer.email for t in tickets] == ["ëve@example.com", "ops@acme.example"]
        failed = session.scalars(select(TicketEvent).where(TicketEvent.kind == "email_failed"))
        assert [e.ticket_id for e in failed] == [tickets[0].id]


def test_non_ascii_address_goes_out_where_the_server_offers_smtputf8(
    make_runtime, db_url, smtputf8_server
) -> None:
    runtime = smtp_runtime(make_runtime, db_url, smtputf8_server)
    ingest(runtime, inbound("Ëve <ëve@example.com>", "<e1@example.com>"))

    [received] = smtputf8_server.wait_for(1)
    assert smtputf8_server.transcript == [
        "MAIL <license@tickets.test> SMTPUTF8 BODY=8BITMIME",
        "RCPT <ëve@example.com>",
        "DATA",
    ]
    assert received["To"].addresses[0].addr_spec == "ëve@example.com"
    assert [status for _, status, _ in outbox(runtime)] == [OutboxStatus.SENT]


def test_an_exception_mid_transaction_closes_the_session_and_the_next_email_arrives(
    make_runtime, db_url, transcript_server, monkeypatch
) -> None:
    """The shape of the 503 nested MAIL bug: MAIL FROM went out, then the client raised."""
    runtime = smtp_runtime(make_runtime, db_url, transcript_server)
    real_rcpt, calls = smtplib.SMTP.rcpt, []

    def rcpt_failing_once(self, recip, options=()):
        calls.append(recip)
        if len(calls) == 1:
            raise UnicodeEncodeError("ascii", recip, 0, 1, "ordinal not in range(128)")
        return real_rcpt(self, recip, options)

    monkeypatch.setattr(smtplib.SMTP, "rcpt", rcpt_failing_once)
    client = create_app(runtime=runtime).test_client()
    post_demo(client, customer_email="first@acme.example")
    post_demo(client, customer_email="second@acme.example", token="SRV-second-0001")

    [received] = transcript_server.wait_for(1)
    assert received["To"].addresses[0].addr_spec == "second@acme.example"
    assert transcript_server.transcript == [
        "MAIL <license@tickets.test>",
        "MAIL <license@tickets.test>",
        "RCPT <second@acme.example>",
        "DATA",
    ], "the first email's open transaction died with its session"
    [(_, first, first_error), (_, second, _)] = outbox(runtime)
    assert (first, second) == (OutboxStatus.FAILED, OutboxStatus.SENT)
    assert first_error.startswith("sending to first@acme.example failed: UnicodeEncodeError")
