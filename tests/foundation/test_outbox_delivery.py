"""Outbox delivery against a real SMTP server: retries for 4xx, failure for 5xx, never twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.fixtures.backends import free_port
from tests.foundation.helpers import post_demo
from ticketbridge.app import create_app
from ticketbridge.errors import DeliveryError
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.outbox.service import RETRY_DELAYS
from ticketbridge.tickets.models import TicketEvent


def queued_email(make_runtime, db_url, smtp_host, smtp_port, email):
    """Submit a demo whose email waits in the outbox (the in-process delivery is absorbed)."""
    runtime = make_runtime(database_url=db_url, smtp_host=smtp_host, smtp_port=smtp_port)
    post_demo(create_app(runtime=runtime).test_client(), customer_email=email)
    with runtime.db.transaction() as session:
        outbox = session.scalars(select(OutboxEmail)).one()
        return runtime, outbox.id


def outbox_row(runtime, outbox_id):
    with runtime.db.transaction() as session:
        return session.get_one(OutboxEmail, outbox_id)


def test_temporary_smtp_failure_is_retried_with_backoff(make_runtime, db_url, smtp_server) -> None:
    runtime, outbox_id = queued_email(
        make_runtime, db_url, smtp_server.host, smtp_server.port, "tempfail@acme.example"
    )
    row = outbox_row(runtime, outbox_id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "451" in row.last_error
    assert row.next_attempt_at - row.created_at >= RETRY_DELAYS[0] - dt.timedelta(seconds=5)
    assert runtime.tasks.deliver_email(outbox_id, row.created_at) is None, (
        "not due yet: nothing is sent"
    )
    assert smtp_server.received == []


def test_permanent_smtp_failure_marks_the_email_failed_and_tells_staff(
    make_runtime, db_url, smtp_server
) -> None:
    runtime, outbox_id = queued_email(
        make_runtime, db_url, smtp_server.host, smtp_server.port, "reject@acme.example"
    )
    row = outbox_row(runtime, outbox_id)
    assert row.status == OutboxStatus.FAILED
    assert "550" in row.last_error
    with runtime.db.transaction() as session:
        summaries = [
            e.summary
            for e in session.scalars(select(TicketEvent).where(TicketEvent.kind == "email_failed"))
        ]
    assert summaries == [
        "Email to reject@acme.example failed: SMTP refused reject@acme.example: 550 5.1.1 No "
        "such user"
    ]


def test_refused_connection_is_temporary(make_runtime, db_url) -> None:
    runtime, outbox_id = queued_email(
        make_runtime, db_url, "127.0.0.1", free_port(), "ops@acme.example"
    )
    row = outbox_row(runtime, outbox_id)
    assert row.status == OutboxStatus.PENDING
    assert "unreachable" in row.last_error


def test_delivering_twice_sends_once(make_runtime, db_url, smtp_server) -> None:
    runtime = make_runtime(
        database_url=db_url, smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )
    post_demo(create_app(runtime=runtime).test_client())
    with runtime.db.transaction() as session:
        outbox_id = session.scalars(select(OutboxEmail.id)).one()
    assert runtime.tasks.deliver_email(outbox_id, dt.datetime.now(dt.UTC)) is None
    assert len(smtp_server.received) == 1


def test_smtp_session_is_kept_between_emails_and_replaced_when_the_server_dropped_it(
    tmp_path, smtp_server
) -> None:
    import socket

    from tests.fixtures.backends import test_settings
    from ticketbridge.outbox.senders import SmtpSender

    sender = SmtpSender(
        test_settings(tmp_path, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    )
    message = b"Subject: hello\r\n\r\nbody\r\n"
    for n in range(2):
        sender.send(
            sender="license@tickets.test",
            recipient=f"ops{n}@acme.example",
            raw=message,
            name=str(n),
        )
    assert len(smtp_server.peers) == 2 and smtp_server.peers[0] == smtp_server.peers[1], (
        "one session for both"
    )

    sender._local.smtp.sock.shutdown(socket.SHUT_RDWR)
    sender.send(sender="license@tickets.test", recipient="ops2@acme.example", raw=message, name="2")
    assert len(smtp_server.received) == 3
    assert smtp_server.peers[2] != smtp_server.peers[1], "a new session after the old one died"

    with pytest.raises(DeliveryError, match="550"):
        sender.send(
            sender="license@tickets.test", recipient="reject@acme.example", raw=message, name="3"
        )
    sender.send(sender="license@tickets.test", recipient="ops4@acme.example", raw=message, name="4")
    assert smtp_server.peers[-1] == smtp_server.peers[2], (
        "a refused recipient does not cost the session"
    )
