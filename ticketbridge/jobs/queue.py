"""Where jobs go: rq on Redis in production, straight into this process on the embedded default.

Jobs carry ids only; the database says what to do. Each job has a deterministic id, so
enqueueing the same work twice while it waits stores it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Protocol

from redis import Redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from ticketbridge.config import Settings
from ticketbridge.jobs.tasks import JOBS, Tasks

log = logging.getLogger(__name__)
QUEUE_NAME = "ticketbridge"
RETRY = Retry(max=3, interval=[5, 30, 120])


class JobQueue(Protocol):
    def enqueue(self, task: str, ident: int) -> None: ...

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None: ...

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None: ...


class InlineJobQueue:
    """Runs the job at once; a failure is logged and left for the sweeper, as an rq job's would
    be.

    The tasks use the engine, and the engine this queue, so the runtime attaches the tasks once
    both exist.
    """

    def __init__(self) -> None:
        self._tasks: Tasks | None = None

    def attach(self, tasks: Tasks) -> None:
        self._tasks = tasks

    def enqueue(self, task: str, ident: int) -> None:
        if self._tasks is None:
            raise RuntimeError("the in-process job queue has no tasks attached")
        try:
            self._tasks.run(task, ident)
        except Exception:
            log.exception("job %s(%s) failed; the sweeper will retry it", task, ident)

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None:
        for ident in idents:
            self.enqueue(task, ident)

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None:
        """Nothing to do: the web process's sweeper runs whatever has come due."""


class RqJobQueue:
    def __init__(self, redis_url: str) -> None:
        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(QUEUE_NAME, connection=self.connection, serializer=JSONSerializer)

    @staticmethod
    def _check(task: str) -> None:
        """An unknown task name fails here, in the caller, not later in a worker."""
        if task not in JOBS:
            raise ValueError(f"unknown job {task!r}; jobs: {', '.join(JOBS)}")

    def enqueue(self, task: str, ident: int) -> None:
        self._check(task)
        self.queue.enqueue(
            f"ticketbridge.jobs.tasks.{task}",
            ident,
            job_id=f"{task}-{ident}",
            retry=RETRY,
            result_ttl=0,
        )

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None:
        """All of them in one Redis pipeline: a fetcher batch queues hundreds of jobs at once."""
        self._check(task)
        unique = list(dict.fromkeys(idents))
        if unique:
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

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None:
        """rq's scheduler (run by every `ticketbridge worker`) enqueues it at `at`."""
        self._check(task)
        self.queue.enqueue_at(
            at,
            f"ticketbridge.jobs.tasks.{task}",
            ident,
            job_id=f"{task}-{ident}",
            retry=RETRY,
            result_ttl=0,
        )


def queue_for(settings: Settings) -> InlineJobQueue | RqJobQueue:
    return InlineJobQueue() if settings.embedded else RqJobQueue(settings.redis_url)
