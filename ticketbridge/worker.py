"""`ticketbridge worker`: an rq worker with its scheduler, and the database sweeper.

It is rq's SimpleWorker, which runs jobs in its own process and so keeps its database connection
pool between jobs; the forking worker starts each job in a child with an empty pool. Measured on
this 2-core machine (bench/pipeline.py): 230 trivial jobs per second against 54. The price is
that a job that hangs holds its worker until rq's job timeout; run several workers (on several
machines) for throughput and isolation.
"""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis
from rq import SimpleWorker

from ticketbridge.clock import utcnow
from ticketbridge.jobs import tasks
from ticketbridge.jobs.queue import RqJobQueue
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.runtime import Runtime

log = logging.getLogger(__name__)
SWEEP_LOCK = "ticketbridge:sweeper-lock"


def run_worker(runtime: Runtime, *, burst: bool = False, sweep: bool = True) -> None:
    if runtime.settings.embedded:
        raise SystemExit(
            "TICKETBRIDGE_REDIS_URL is not set: on the embedded default, `ticketbridge serve` "
            "runs jobs itself"
        )
    tasks.install(runtime.tasks)
    queue = runtime.jobs
    assert isinstance(queue, RqJobQueue)
    if sweep:
        start_sweeper(runtime, redis=queue.connection)
    worker = SimpleWorker(
        [queue.queue], connection=queue.connection, serializer=queue.queue.serializer
    )
    worker.work(burst=burst, with_scheduler=True)


def start_sweeper(runtime: Runtime, *, redis: Redis | None = None) -> threading.Thread:
    """Sweep every interval; with Redis, one sweeper per interval across all machines (a lock)."""
    interval = runtime.settings.sweep_interval_seconds

    def loop() -> None:
        while True:
            try:
                if redis is None or redis.set(SWEEP_LOCK, "1", nx=True, ex=max(interval - 1, 1)):
                    report = sweep(runtime.db, runtime.jobs, utcnow())
                    if report.tickets or report.timers or report.emails:
                        log.info(
                            "sweeper enqueued %d ticket(s), %d timer(s), %d email(s)",
                            report.tickets,
                            report.timers,
                            report.emails,
                        )
            except Exception:
                log.exception("sweep failed; trying again in %s s", interval)
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="ticketbridge-sweeper", daemon=True)
    thread.start()
    return thread
