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
from rq import Queue, SimpleWorker

from ticketbridge.clock import utcnow
from ticketbridge.jobs import tasks
from ticketbridge.jobs.queue import RqJobQueue
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.runtime import Runtime

log = logging.getLogger(__name__)
SWEEP_LOCK = "ticketbridge:sweeper-lock"
RQ_JOB_LINES = frozenset(
    {
        "Worker %s: %s: %s",
        "Worker %s: %s: %s (%s)",
        "Successfully completed job %s in %ss on worker %s",
    }
)
"""rq 3's formats for a job dequeued, OK and completed (without the job's description)."""


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
    level = logging.getLogger().getEffectiveLevel()
    worker = quiet_worker(queue.queue, level)
    worker.work(burst=burst, with_scheduler=True, logging_level=logging.getLevelName(level))


def quiet_worker(queue: Queue, level: int) -> SimpleWorker:
    """A SimpleWorker logging at `level`, with rq's per-job lines only at DEBUG."""
    worker = SimpleWorker(
        [queue],
        connection=queue.connection,
        serializer=queue.serializer,
        log_job_description=False,
    )
    worker.log_result_lifespan = False
    if level > logging.DEBUG:
        logging.getLogger("rq.worker").addFilter(_not_a_job_line)
    return worker


def _not_a_job_line(record: logging.LogRecord) -> bool:
    """rq logs each job's start and end at INFO; only `--log-level DEBUG` shows them, so a worker
    at INFO writes one line per batch (the pump's) instead of two or three per job."""
    return record.msg not in RQ_JOB_LINES


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
