"""Faults in production: workers killed mid-step and mid-send, Redis and PostgreSQL going away.

Each test drives a demo request through a real `ticketbridge worker` process, an rq queue on
Redis and PostgreSQL, breaks one thing at a precise moment, mends it, and asserts that the
ticket reaches the same final state as without the fault: the license applied once, the outcome
email accepted by the SMTP server (twice at most, with one Message-ID, in the documented
at-least-once window), nothing half-written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from tests.faults.conftest import PrivatePostgres, PrivateRedis
from tests.fixtures.backends import SmtpServer, free_port, wait_until
from tests.foundation.helpers import DEMO_FORM, post_demo
from ticketbridge.app import create_app
from ticketbridge.clock import utcnow
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.licenses.models import EntitlementChange, License
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.outbox.service import CLAIM_SECONDS
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
TOKEN = DEMO_FORM["token"]


def production(make_runtime: Callable[..., Runtime], db: str, redis_url: str, smtp: Any) -> Runtime:
    return make_runtime(
        database_url=db,
        redis_url=redis_url,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        sweep_interval_seconds=1,
    )


def final_state(runtime: Runtime) -> tuple[str, str, int, int]:
    """The ticket's state, its license's state, its entitlement rows and transition events."""
    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        license = session.scalars(select(License).where(License.token == TOKEN)).one()
        entitlements = session.scalar(
            select(func.count())
            .select_from(EntitlementChange)
            .where(EntitlementChange.license_id == license.id)
        )
        transitions = session.scalar(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "transition")
        )
        return ticket.state, str(license.state), int(entitlements or 0), int(transitions or 0)


def outbox_statuses(runtime: Runtime) -> list[OutboxStatus]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(OutboxEmail.status)))


def reference_outcome(make_runtime: Callable[..., Runtime], sqlite: str) -> tuple[Any, ...]:
    """What the same request comes to with nothing broken (embedded default, in-process jobs)."""
    runtime = make_runtime(database_url=sqlite)
    assert post_demo(create_app(runtime=runtime).test_client()).status_code == 303
    return final_state(runtime)


@pytest.fixture
def sqlite_url(tmp_path: Any, sqlite_template: Any) -> str:
    copy = tmp_path / "reference.sqlite3"
    shutil.copy(sqlite_template, copy)
    return f"sqlite:///{copy}"


def waiting_on_a_lock(pg: PrivatePostgres) -> bool:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg.port}/postgres") as conn:
        return bool(
            conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()[0]  # type: ignore[index]
        )


def test_a_worker_killed_in_the_middle_of_a_step_leaves_nothing_half_done(
    make_runtime, private_postgres, private_redis, smtp_server, start_worker, sqlite_url
) -> None:
    expected = reference_outcome(make_runtime, sqlite_url)
    runtime = production(make_runtime, private_postgres.url, private_redis.url, smtp_server)
    client = create_app(runtime=runtime).test_client()
    assert post_demo(client).status_code == 303

    # Hold the license row: the worker's step blocks on it, inside its open transaction.
    holder = psycopg.connect(f"postgresql://postgres@127.0.0.1:{private_postgres.port}/postgres")
    holder.execute("SELECT * FROM licenses WHERE token = %s FOR UPDATE", (TOKEN,))
    worker = start_worker(runtime.settings)
    wait_until(lambda: waiting_on_a_lock(private_postgres), what="the step waiting on the row")
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    holder.rollback()
    holder.close()

    assert final_state(runtime)[0] == "received", "the killed step committed something"
    second = start_worker(runtime.settings)
    try:
        smtp_server.wait_for(1, timeout=60)
    except AssertionError:
        raise AssertionError(second.output()) from None
    wait_until(lambda: outbox_statuses(runtime) == [OutboxStatus.SENT], what="the email sent")
    assert final_state(runtime) == expected
    assert len(smtp_server.received) == 1


class GatedSmtp(SmtpServer):
    """An SMTP server that holds its answer to DATA until the test opens the gate."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.in_data = threading.Event()
        self.gate = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.in_data.set()
        while not self.gate.is_set():
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def gated_smtp() -> Iterator[GatedSmtp]:
    server = GatedSmtp("127.0.0.1", free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    yield server
    server.gate.set()
    controller.stop()


def test_a_worker_killed_in_the_middle_of_an_smtp_send_sends_again_with_one_message_id(
    make_runtime, private_postgres, private_redis, gated_smtp, start_worker, sqlite_url
) -> None:
    expected = reference_outcome(make_runtime, sqlite_url)
    runtime = production(make_runtime, private_postgres.url, private_redis.url, gated_smtp)
    assert post_demo(create_app(runtime=runtime).test_client()).status_code == 303
    worker = start_worker(runtime.settings)
    assert gated_smtp.in_data.wait(60), worker.output()
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    gated_smtp.gate.set()  # too late: the sender never hears the server's answer
    assert outbox_statuses(runtime) == [OutboxStatus.SENDING]

    # The claim expires; a new worker's sweep hands the email out again.
    later = utcnow() + dt.timedelta(seconds=CLAIM_SECONDS + 1)
    assert sweep(runtime.db, runtime.jobs, later).emails == 1
    [outbox_id] = _outbox_ids(runtime)
    assert runtime.tasks.deliver_email(outbox_id, later) is OutboxStatus.SENT
    assert final_state(runtime) == expected
    # At least once: the first copy may or may not have been kept by the server.
    assert 1 <= len(gated_smtp.received) <= 2
    assert len({m["Message-ID"] for m in gated_smtp.received}) == 1
    assert runtime.tasks.deliver_email(outbox_id, later) is None, "a sent email was sent again"


def _outbox_ids(runtime: Runtime) -> list[int]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(OutboxEmail.id)))


def test_redis_down_for_a_while_loses_no_request(
    make_runtime,
    private_postgres,
    private_redis: PrivateRedis,
    smtp_server,
    start_worker,
    sqlite_url,
) -> None:
    expected = reference_outcome(make_runtime, sqlite_url)
    runtime = production(make_runtime, private_postgres.url, private_redis.url, smtp_server)
    client = create_app(runtime=runtime).test_client()
    private_redis.stop()

    answer = post_demo(client)
    assert answer.status_code == 303, answer.text  # stored: the customer gets the ticket
    assert final_state(runtime)[0] == "received"

    private_redis.start()
    start_worker(runtime.settings)  # its sweeper finds the ticket the queue never heard of
    smtp_server.wait_for(1, timeout=60)
    wait_until(lambda: outbox_statuses(runtime) == [OutboxStatus.SENT], what="the email sent")
    assert final_state(runtime) == expected
    assert len(smtp_server.received) == 1


def test_postgresql_restart_answers_503_meanwhile_and_workers_reconnect(
    make_runtime, private_postgres: PrivatePostgres, private_redis, smtp_server, start_worker
) -> None:
    runtime = production(make_runtime, private_postgres.url, private_redis.url, smtp_server)
    client = create_app(runtime=runtime).test_client()
    worker = start_worker(runtime.settings)
    assert post_demo(client).status_code == 303
    smtp_server.wait_for(1, timeout=60)
    # Not between the SMTP server's 250 and the row marked sent: that is the documented
    # at-least-once window (the claim expires and the email goes again, same Message-ID).
    wait_until(lambda: outbox_statuses(runtime) == [OutboxStatus.SENT], what="first email sent")

    private_postgres.stop()
    page = client.get("/requests/demo")  # the form itself needs the workflow in force
    assert page.status_code == 503
    assert "Temporarily unavailable" in page.text and "Traceback" not in page.text
    private_postgres.start()

    assert post_demo(client, token="SRV-second-0002").status_code == 303
    smtp_server.wait_for(2, timeout=60)
    wait_until(lambda: outbox_statuses(runtime) == [OutboxStatus.SENT] * 2, what="both emails sent")
    with runtime.db.transaction() as session:
        assert sorted(session.scalars(select(Ticket.state))) == ["demo_active", "demo_active"]
    assert worker.process.poll() is None, worker.output()


def test_smtp_down_for_a_while_emails_wait_then_go_out(
    make_runtime, private_postgres, private_redis, start_worker
) -> None:
    port = free_port()
    down = SmtpServer("127.0.0.1", port)
    runtime = production(make_runtime, private_postgres.url, private_redis.url, down)
    worker = start_worker(runtime.settings)
    assert post_demo(create_app(runtime=runtime).test_client()).status_code == 303

    def retry_recorded() -> bool:
        with runtime.db.transaction() as session:
            email = session.scalars(select(OutboxEmail)).one_or_none()
            return email is not None and email.status == OutboxStatus.PENDING and email.attempts > 0

    wait_until(retry_recorded, timeout=60, what="a temporary failure recorded")
    server = SmtpServer("127.0.0.1", port)
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    try:
        later = utcnow() + dt.timedelta(minutes=2)
        [outbox_id] = _outbox_ids(runtime)
        assert runtime.tasks.deliver_email(outbox_id, later) is OutboxStatus.SENT
        assert len(server.received) == 1
    finally:
        controller.stop()
    assert worker.process.poll() is None, worker.output()
