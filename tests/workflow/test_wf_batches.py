"""Batches: a worker advances many due tickets in one transaction and sends their emails over one
SMTP session; the rq queue keeps one batch job (the pump) waiting, however many tickets come due.
"""

from __future__ import annotations

import logging

import redis
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select, update

from tests.foundation.helpers import post_demo
from tests.workflow.conftest import WfRuntime
from tests.workflow.helpers import events, submit, ticket
from tests.workflow.test_wf_concurrency import race
from tests.workflow.test_wf_runs import RecordingQueue
from ticketbridge.app import create_app
from ticketbridge.clock import utcnow
from ticketbridge.jobs import tasks
from ticketbridge.jobs.queue import PUMP_FLAG, PUMP_JOB, RqJobQueue
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket, TicketEvent
from ticketbridge.worker import quiet_worker


def transitions(runtime, ticket_id: int) -> list[str]:
    return [e.payload["transition"] for e in events(runtime, ticket_id, "transition")]


def smtp_runtime(make_runtime, db_url: str, smtp_server, **settings: object) -> Runtime:
    """A runtime whose emails go to the test SMTP server."""
    return make_runtime(
        database_url=db_url, smtp_host=smtp_server.host, smtp_port=smtp_server.port, **settings
    )


def post_demos(runtime: Runtime, prefix: str, emails: list[str]) -> None:
    """One demo request per address, each with a token of its own."""
    client = create_app(runtime=runtime).test_client()
    for n, email in enumerate(emails):
        answer = post_demo(client, token=f"SRV-{prefix}-{n:04d}", customer_email=email)
        assert answer.status_code == 303


def work_burst(runtime: Runtime, monkeypatch) -> None:
    """Run the rq queue's jobs here, as a worker whose tasks are the runtime's would."""
    assert isinstance(runtime.jobs, RqJobQueue)
    monkeypatch.setattr(tasks, "_installed", runtime.tasks)
    SimpleWorker(
        [runtime.jobs.queue], connection=runtime.jobs.connection, serializer=JSONSerializer
    ).work(burst=True)


def test_a_failing_ticket_rolls_back_only_itself(make_wf_runtime: WfRuntime, db_url: str) -> None:
    runtime = make_wf_runtime(database_url=db_url, jobs=RecordingQueue())
    good = [submit(runtime, "simple", token=f"SRV-good-{n:04d}", agents="5") for n in range(3)]
    bad = submit(runtime, "simple", token="SRV-bad-0001")  # no agents: the guard cannot run
    more = submit(runtime, "simple", token="SRV-good-0009", agents="1")

    assert runtime.tasks.advance_due() == 5
    for ticket_id in [*good, more]:
        assert transitions(runtime, ticket_id) == ["finish"]
        assert (ticket(runtime, ticket_id).outcome, ticket(runtime, ticket_id).next_run_at) == (
            "completed",
            None,
        )
    failed = ticket(runtime, bad)
    assert (failed.state, failed.failures) == ("received", 1)
    assert failed.next_run_at is not None and failed.next_run_at > utcnow()
    assert transitions(runtime, bad) == []
    [step_failed] = events(runtime, bad, "step_failed")
    assert step_failed.payload["error"].startswith("guard 'form.agents >= 0'")
    assert runtime.tasks.advance_due() == 0, "the failed ticket waits for its retry time"


def test_two_workers_taking_batches_never_advance_one_ticket_twice(
    make_wf_runtime: WfRuntime, db_url: str
) -> None:
    runtime = make_wf_runtime(database_url=db_url, jobs=RecordingQueue())
    ids = [submit(runtime, "simple", token=f"SRV-race-{n:04d}", agents="2") for n in range(12)]
    claimed: list[int] = []

    def worker() -> None:
        while count := runtime.tasks.advance_due(limit=5):
            claimed.append(count)

    race(2, worker)
    assert sum(claimed) == len(ids), "each ticket was claimed by exactly one batch"
    with runtime.db.transaction() as session:
        taken = list(
            session.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "transition"))
        )
    assert sorted(taken) == ids


def test_a_batch_of_outcome_emails_goes_over_one_smtp_session(
    make_runtime, db_url, smtp_server
) -> None:
    runtime = smtp_runtime(make_runtime, db_url, smtp_server, jobs=RecordingQueue())
    post_demos(runtime, "batch", [f"c{n}@acme.example" for n in range(4)])
    assert smtp_server.received == []

    assert runtime.tasks.pump() is False, "nothing is left once one batch took it all"
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_server.received) == [
        f"c{n}@acme.example" for n in range(4)
    ]
    assert len(set(smtp_server.peers)) == 1, "one SMTP connection for the batch"
    with runtime.db.transaction() as session:
        assert list(session.scalars(select(OutboxEmail.status))) == [OutboxStatus.SENT] * 4
        assert session.scalars(select(Ticket.state)).all() == ["demo_active"] * 4


def test_a_refused_email_in_a_batch_fails_alone(make_runtime, db_url, smtp_server) -> None:
    runtime = smtp_runtime(make_runtime, db_url, smtp_server, jobs=RecordingQueue())
    post_demos(runtime, "mixed", ["a@acme.example", "reject@acme.example", "b@acme.example"])
    runtime.tasks.pump()
    with runtime.db.transaction() as session:
        outcome = dict(session.execute(select(OutboxEmail.recipient, OutboxEmail.status)).all())
    assert outcome == {
        "a@acme.example": OutboxStatus.SENT,
        "reject@acme.example": OutboxStatus.FAILED,
        "b@acme.example": OutboxStatus.SENT,
    }


def test_many_due_tickets_wait_as_one_pump_job(
    make_wf_runtime: WfRuntime, db_url: str, redis_url: str, monkeypatch
) -> None:
    runtime = make_wf_runtime(database_url=db_url, redis_url=redis_url)
    assert isinstance(runtime.jobs, RqJobQueue)
    ids = [submit(runtime, "simple", token=f"SRV-pump-{n:04d}", agents="3") for n in range(5)]
    [job] = runtime.jobs.queue.jobs
    assert job.func_name == PUMP_JOB

    work_burst(runtime, monkeypatch)
    assert [transitions(runtime, ticket_id) for ticket_id in ids] == [["finish"]] * 5
    assert redis.Redis.from_url(redis_url).get(PUMP_FLAG) is None, "the pump released its flag"


def test_the_emails_a_pump_queues_wake_no_second_pump(
    make_runtime, db_url: str, redis_url: str, smtp_server, monkeypatch
) -> None:
    """The pump sends what its own advances queued: that work starts no further pump job."""
    runtime = smtp_runtime(make_runtime, db_url, smtp_server, redis_url=redis_url)
    post_demos(runtime, "self", [f"c{n}@acme.example" for n in range(3)])
    batches: list[int] = []
    pump = runtime.tasks.pump

    def counted() -> bool:
        batches.append(len(smtp_server.received))
        return pump()

    monkeypatch.setattr(runtime.tasks, "pump", counted)
    work_burst(runtime, monkeypatch)
    assert len(smtp_server.received) == 3
    assert batches == [0], "one pump advanced the tickets and sent their emails"


def test_a_lost_pump_job_is_recovered_by_the_sweeper(
    make_wf_runtime: WfRuntime, db_url: str, redis_url: str, monkeypatch
) -> None:
    """The flag still names a pump, but its job is gone (deleted from Redis): the web's enqueue
    found a pump waiting and added none; the sweeper, finding the ticket due, starts one."""
    runtime = make_wf_runtime(database_url=db_url, redis_url=redis_url)
    assert isinstance(runtime.jobs, RqJobQueue)
    ticket_id = submit(runtime, "simple", token="SRV-lost-0001", agents="3")
    [lost] = runtime.jobs.queue.jobs
    lost.delete()
    assert redis.Redis.from_url(redis_url).get(PUMP_FLAG) == lost.id.encode()
    assert runtime.jobs.queue.count == 0

    assert sweep(runtime.db, runtime.jobs, utcnow()).tickets == 1
    [pump] = runtime.jobs.queue.jobs
    assert (pump.func_name, pump.id != lost.id) == (PUMP_JOB, True)
    work_burst(runtime, monkeypatch)
    assert transitions(runtime, ticket_id) == ["finish"]


def test_the_per_ticket_job_still_advances_one_due_ticket(
    make_wf_runtime: WfRuntime, db_url: str
) -> None:
    runtime = make_wf_runtime(database_url=db_url, jobs=RecordingQueue())
    first = submit(runtime, "simple", token="SRV-one-0001", agents="3")
    second = submit(runtime, "simple", token="SRV-one-0002", agents="3")
    runtime.tasks.advance_ticket(first)
    assert (transitions(runtime, first), transitions(runtime, second)) == (["finish"], [])
    with runtime.db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.id == second).values(next_run_at=None))
    runtime.tasks.advance_ticket(second)
    assert transitions(runtime, second) == [], "a ticket that is not due is left alone"


def nothing() -> None:
    """A job for the logging test."""


def test_a_worker_at_info_writes_no_line_per_job(redis_url: str) -> None:
    queue = Queue("quiet", connection=redis.Redis.from_url(redis_url), serializer=JSONSerializer)
    jobs = [queue.enqueue(f"{__name__}.nothing", result_ttl=0) for _ in range(3)]
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("rq.worker")
    logger.addHandler(handler)
    try:
        quiet_worker(queue, logging.INFO).work(burst=True, logging_level="INFO")
    finally:
        logger.removeHandler(handler)
    assert queue.count == 0 and lines, "the jobs ran and the worker logged its start"
    assert not [line for line in lines if any(job.id in line for job in jobs)], lines
