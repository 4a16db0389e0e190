"""Where jobs go: rq on Redis in production, straight into this process on the embedded default.

Jobs carry ids only; the database says what to do. On rq, advancing tickets and delivering
emails are not one job per id: the database already says which tickets and emails are due, so
enqueueing either only makes sure one batch job (the pump, `pump`) is waiting. A Redis flag
naming the waiting pump makes that one call; the pump clears the flag as it starts, so work
committed later starts another pump, which a free worker takes while the first still runs (the
batches skip each other's locked rows). Many tickets then cost one rq job, one transaction and
one SMTP session. Timers stay one job each, with a deterministic id, so enqueueing the same
timer twice while it waits stores it once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from functools import partial
from typing import Protocol

from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.job import Job
from rq.serializers import JSONSerializer

from ticketbridge.config import Settings
from ticketbridge.jobs import tasks
from ticketbridge.jobs.tasks import JOBS, Tasks

log = logging.getLogger(__name__)
QUEUE_NAME = "ticketbridge"
RETRY = Retry(max=3, interval=[5, 30, 120])
BATCHED = frozenset({"advance_ticket", "deliver_email"})
"""Tasks the pump does for every due id at once (see the module's docstring)."""
PUMP_FLAG = "ticketbridge:pump"
PUMP_FLAG_SECONDS = 600
"""A bound on a flag that outlives its job in a way the check below cannot see."""
PUMP_JOB = "ticketbridge.jobs.queue.pump"
# Set the flag to this pump's id unless it names a pump whose job still exists: one round trip,
# and a flag whose job was lost (a Redis flush of the queue, a failed enqueue) is replaced by the
# next enqueue, the sweeper's included.
_CLAIM_FLAG = """
local current = redis.call('GET', KEYS[1])
if current and redis.call('EXISTS', ARGV[3] .. current) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
# Clear the flag only if it still names this pump (a later one may have replaced it).
_RELEASE_FLAG = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_PUMPING: ContextVar[bool] = ContextVar("pumping", default=False)
"""Set while this worker runs a pump's batch: the emails its advances queue are sent by that
same batch (or, when it was full, by the next pump it wakes), so they wake no other."""


class JobQueue(Protocol):
    def enqueue(self, task: str, ident: int) -> None: ...

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None: ...

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None: ...


class InlineJobQueue:
    """Runs the job at once; a failure is logged and left for the sweeper, as an rq job's would
    be. Emails queued together go out together, over one SMTP session (`Tasks.deliver_emails`).

    The tasks use the engine, and the engine this queue, so the runtime attaches the tasks once
    both exist.
    """

    def __init__(self) -> None:
        self._tasks: Tasks | None = None

    def attach(self, tasks: Tasks) -> None:
        self._tasks = tasks

    def enqueue(self, task: str, ident: int) -> None:
        self.enqueue_many(task, [ident])

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None:
        if self._tasks is None:
            raise RuntimeError("the in-process job queue has no tasks attached")
        tasks = self._tasks
        if task == "deliver_email":
            _run(f"{task}{tuple(idents)}", partial(tasks.deliver_emails, idents))
            return
        for ident in idents:
            _run(f"{task}({ident})", partial(tasks.run, task, ident))

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None:
        """Nothing to do: the web process's sweeper runs whatever has come due."""


def _run(job: str, body: Callable[[], object]) -> None:
    try:
        body()
    except Exception:
        log.exception("job %s failed; the sweeper will retry it", job)


class RqJobQueue:
    def __init__(self, connection: Redis) -> None:
        self.connection = connection
        self.queue = Queue(QUEUE_NAME, connection=self.connection, serializer=JSONSerializer)
        self._claim_flag = connection.register_script(_CLAIM_FLAG)
        self._release_flag = connection.register_script(_RELEASE_FLAG)

    @classmethod
    def from_url(cls, redis_url: str) -> RqJobQueue:
        return cls(Redis.from_url(redis_url))

    @staticmethod
    def _check(task: str) -> None:
        """An unknown task name fails here, in the caller, not later in a worker."""
        if task not in JOBS:
            raise ValueError(f"unknown job {task!r}; jobs: {', '.join(JOBS)}")

    def enqueue(self, task: str, ident: int) -> None:
        self.enqueue_many(task, [ident])

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None:
        """Batched tasks wake the pump; others go in one Redis pipeline (a sweep may queue
        hundreds of timers at once)."""
        self._check(task)
        unique = list(dict.fromkeys(idents))
        if not unique:
            return
        if task in BATCHED:
            self.wake_pump()
            return
        self.queue.enqueue_many(
            [
                Queue.prepare_data(
                    f"ticketbridge.jobs.tasks.{task}",
                    (ident,),
                    job_id=f"{task}-{ident}",
                    retry=RETRY,
                    result_ttl=0,
                )
                for ident in unique
            ]
        )

    def wake_pump(self) -> None:
        """Make sure a pump job is waiting: one Redis call while one already is; none from
        within a pump's batch (see `_PUMPING`)."""
        if _PUMPING.get():
            return
        pump_id = f"pump-{uuid.uuid4().hex}"
        if self._claim_flag(
            keys=[PUMP_FLAG], args=[pump_id, PUMP_FLAG_SECONDS, Job.redis_job_namespace_prefix]
        ):
            self.queue.enqueue(PUMP_JOB, job_id=pump_id, result_ttl=0, failure_ttl=3600)

    def pump_started(self, pump_id: str) -> None:
        """A pump starts its batches: work committed from now on needs another pump."""
        self._release_flag(keys=[PUMP_FLAG], args=[pump_id])

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None:
        """rq's scheduler (run by every `ticketbridge worker`) enqueues it at `at`."""
        self._check(task)
        if task in BATCHED:
            raise ValueError(f"{task} runs in the pump as soon as it is due; it is not scheduled")
        self.queue.enqueue_at(
            at,
            f"ticketbridge.jobs.tasks.{task}",
            ident,
            job_id=f"{task}-{ident}",
            retry=RETRY,
            result_ttl=0,
        )


def pump() -> None:
    """The rq batch job: release the flag, then run batches until nothing due is left, waking
    the next pump instead of looping when a batch was full, so other workers share the work
    and the worker still heeds its other jobs and a shutdown in between."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("the pump runs as an rq job")
    jobs = RqJobQueue(job.connection)
    jobs.pump_started(job.id)
    pumping = _PUMPING.set(True)
    try:
        more = tasks.installed().pump()
    finally:
        _PUMPING.reset(pumping)
    if more:
        jobs.wake_pump()


def queue_for(settings: Settings) -> InlineJobQueue | RqJobQueue:
    return InlineJobQueue() if settings.embedded else RqJobQueue.from_url(settings.redis_url)
