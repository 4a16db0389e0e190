"""Issue 8 item 13: with Redis down in production, a request that was stored answers with its
ticket (never a 500 that invites a second submission), and the sweeper enqueues it later."""

from __future__ import annotations

from sqlalchemy import select

from tests.fixtures.backends import free_port
from tests.foundation.helpers import local_path, post_demo, visible_text
from ticketbridge.app import create_app
from ticketbridge.clock import utcnow
from ticketbridge.jobs.queue import PUMP_JOB
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.tickets.models import Ticket


def test_a_request_stored_while_redis_is_down_answers_with_its_ticket(
    make_runtime, pg_url, redis_url
) -> None:
    down = make_runtime(database_url=pg_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = create_app(runtime=down).test_client()
    response = post_demo(client)
    assert response.status_code == 303
    page = client.get(local_path(response.headers["Location"]))
    assert page.status_code == 200 and "Ticket LIC-000001" in visible_text(page.text)
    with down.db.transaction() as session:
        [due] = session.scalars(select(Ticket.next_run_at)).all()
    assert due is not None, "the database says the ticket still has work due"

    back = make_runtime(database_url=pg_url, redis_url=redis_url)
    assert sweep(back.db, back.jobs, utcnow()).tickets == 1
    queue = back.jobs.queue
    [pump] = queue.jobs
    assert pump.func_name == PUMP_JOB, "one batch job advances every due ticket"
