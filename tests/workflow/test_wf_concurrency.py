"""Two workers racing on one ticket (PostgreSQL row lock), two sweepers on one timer, and timers
surviving the loss of every queued job in Redis."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import redis
from rq import SimpleWorker
from sqlalchemy import update

from tests.workflow.conftest import WfRuntime
from tests.workflow.helpers import events, manual, submit, ticket, timers
from tests.workflow.test_wf_runs import RecordingQueue
from ticketbridge.clock import utcnow
from ticketbridge.jobs import tasks
from ticketbridge.jobs.queue import RqJobQueue
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.runtime import Runtime
from ticketbridge.workflow.models import WorkflowTimer


def race(count: int, job: Callable[[], None]) -> None:
    """Start `count` threads that call `job` at the same moment; re-raise the first failure."""
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            job()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if failures:
        raise failures[0]


@pytest.mark.parametrize("round_", range(5))
def test_two_workers_racing_on_one_ticket_apply_one_transition(
    make_wf_runtime: WfRuntime, pg_url: str, round_: int
) -> None:
    pg_wf = make_wf_runtime(database_url=pg_url, jobs=RecordingQueue())
    ticket_id = submit(pg_wf, "simple", token=f"SRV-race-{round_:04d}", agents="5")
    race(2, lambda: pg_wf.tasks.advance_ticket(ticket_id))
    assert [e.payload["transition"] for e in events(pg_wf, ticket_id, "transition")] == ["finish"]
    assert ticket(pg_wf, ticket_id).outcome == "completed"


def test_two_sweepers_firing_one_timer_fire_it_once(pg_wf: Runtime) -> None:
    ticket_id = submit(pg_wf, "review", reason="a")
    manual(pg_wf, ticket_id, "ask_customer", question="?")
    [timer] = [t for t in timers(pg_wf, ticket_id) if t.pending]
    due = timer.due_at
    race(4, lambda: pg_wf.tasks.fire_timer(timer.id, now=due))
    assert [e.payload["transition"] for e in events(pg_wf, ticket_id, "transition")] == [
        "start_review",
        "ask_customer",
        "no_answer",
    ]
    assert ticket(pg_wf, ticket_id).state == "expired"


def test_a_timer_survives_a_redis_flush(
    make_wf_runtime: WfRuntime, pg_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FLUSHDB on the test database (not FLUSHALL, which would wipe other users of this Redis):
    every queued job is gone; the timer row in PostgreSQL is all the sweeper needs."""
    runtime = make_wf_runtime(database_url=pg_url, redis_url=redis_url)
    assert isinstance(runtime.jobs, RqJobQueue)
    monkeypatch.setattr(tasks, "_installed", runtime.tasks)
    worker = SimpleWorker(
        [runtime.jobs.queue],
        connection=runtime.jobs.connection,
        serializer=runtime.jobs.queue.serializer,
    )
    ticket_id = submit(runtime, "review", reason="a")
    worker.work(burst=True)
    manual(runtime, ticket_id, "ask_customer", question="?")
    with runtime.db.transaction() as session:
        session.execute(
            update(WorkflowTimer)
            .where(WorkflowTimer.ticket_id == ticket_id, WorkflowTimer.transition == "no_answer")
            .values(due_at=utcnow() - dt.timedelta(seconds=1))
        )
    assert runtime.jobs.queue.count > 0
    redis.Redis.from_url(redis_url).flushdb()
    assert runtime.jobs.queue.count == 0
    report = sweep(runtime.db, runtime.jobs, utcnow())
    assert report.timers == 1
    sweep(runtime.db, runtime.jobs, utcnow())
    worker.work(burst=True)
    assert (ticket(runtime, ticket_id).state, ticket(runtime, ticket_id).outcome) == (
        "expired",
        "cancelled",
    )
    assert [e.payload["transition"] for e in events(runtime, ticket_id, "transition")].count(
        "no_answer"
    ) == 1
    assert sweep(runtime.db, runtime.jobs, utcnow()).timers == 0
