"""Issue 2's proof: the demo request through PostgreSQL, a real rq worker on Redis and a real SMTP
server."""

from __future__ import annotations

import redis
from sqlalchemy import select

from tests.fixtures.backends import wait_until
from tests.foundation.helpers import LINK, local_path, post_demo, text_part, visible_text
from ticketbridge.app import create_app
from ticketbridge.clock import utcnow
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.tickets.models import Ticket


def production_runtime(make_runtime, pg_url, redis_url, smtp_server):
    return make_runtime(
        database_url=pg_url,
        redis_url=redis_url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        sweep_interval_seconds=1,
    )


def wait_for_outbox_sent(runtime) -> None:
    def sent() -> bool:
        with runtime.db.transaction() as session:
            return session.scalars(select(OutboxEmail.status)).one() == OutboxStatus.SENT

    wait_until(sent, what="the outbox row marked sent")


def test_demo_request_through_postgresql_rq_worker_and_smtp(
    make_runtime, pg_url, redis_url, smtp_server, start_worker
) -> None:
    runtime = production_runtime(make_runtime, pg_url, redis_url, smtp_server)
    worker = start_worker(runtime.settings)
    client = create_app(runtime=runtime).test_client()

    response = post_demo(client)
    assert response.status_code == 303
    [email] = smtp_server.wait_for(1)

    assert smtp_server.envelopes[0].rcpt_tos == ["ops@acme.example"]
    assert email["Subject"] == "[LIC-000001] Your 30-day XCALLY demo is active (SRV-7f3a9c2e51)"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["Reply-To"].startswith("support+LIC-000001.")
    body = text_part(email)
    assert "Your request LIC-000001 is complete: the 30-day free demo is active" in body
    link = LINK.search(body).group(1)
    assert link.startswith("http://tickets.test/t/")

    wait_for_outbox_sent(runtime)
    page = client.get(local_path(link))
    assert page.status_code == 200
    shown = visible_text(page.text)
    assert "Ticket LIC-000001" in shown and "Closed: completed" in shown
    assert "Email sent to ops@acme.example" in shown
    assert worker.process.poll() is None, worker.output()


def test_a_redis_flush_loses_nothing_the_sweeper_requeues_from_the_database(
    make_runtime, pg_url, redis_url, smtp_server, start_worker
) -> None:
    runtime = production_runtime(make_runtime, pg_url, redis_url, smtp_server)
    client = create_app(runtime=runtime).test_client()
    post_demo(client)
    redis.Redis.from_url(redis_url).flushdb()

    with runtime.db.transaction() as session:
        assert session.scalars(select(Ticket.state)).one() == "received"

    report = sweep(runtime.db, runtime.jobs, utcnow())
    assert (report.tickets, report.emails) == (1, 0)
    start_worker(runtime.settings)
    [email] = smtp_server.wait_for(1)
    assert "[LIC-000001]" in email["Subject"]
    wait_for_outbox_sent(runtime)
    assert len(smtp_server.received) == 1
