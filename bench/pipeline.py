"""Throughput of the thin path in production mode: demo requests → rq worker(s) → SMTP.

Creates a throwaway PostgreSQL database, starts aiosmtpd, submits N demo requests through the
intake service (as the web form does), then starts W `ticketbridge worker` processes and times
until every outcome email has been accepted by the SMTP server. Also times rq's forking Worker
against SimpleWorker on trivial jobs, the figure behind the worker class choice.

    .venv/bin/python -m bench.pipeline --requests 500 --workers 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from redis import Redis
from rq import SimpleWorker, Worker
from sqlalchemy import func, select

from bench.databases import throwaway_postgres
from bench.services import (
    HOST,
    REDIS,
    environment,
    smtp_sink,
    start_workers,
    stop,
    trivial_jobs_per_second,
)
from ticketbridge.clock import utcnow
from ticketbridge.config import load_settings
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.runtime import build_runtime


def pipeline(requests: int, workers: int) -> None:
    with (
        smtp_sink() as (sink, smtp_port),
        throwaway_postgres() as url,
        tempfile.TemporaryDirectory(prefix="tb-bench-") as folder,
    ):
        Redis.from_url(REDIS).flushdb()
        overrides = {
            "instance_path": str(Path(folder) / "instance"),
            "database_url": url,
            "redis_url": REDIS,
            "secret_key": "bench-secret-" + "0" * 32,
            "smtp_host": HOST,
            "smtp_port": smtp_port,
        }
        runtime = build_runtime(load_settings(environ={}, overrides=overrides))
        started = time.perf_counter()
        for n in range(requests):
            form = {
                "token": f"SRV-bench-{n:08d}",
                "customer_name": "Bench",
                "customer_email": f"c{n}@bench.example",
                "accept_conditions": "on",
            }
            with runtime.db.transaction() as session:
                runtime.intake.submit_request(session, "demo", form, now=utcnow())
        submitted = time.perf_counter() - started
        print(
            f"submitted {requests} demo requests in {submitted:.2f}s: "
            f"{requests / submitted:.0f} requests/s (intake, one thread)"
        )

        env = environment({**overrides, "sweep_interval_seconds": 3600})
        started = time.perf_counter()
        # Not waited for: the figure includes the workers' start-up, as its line says.
        processes = start_workers(env, workers, Path(folder), registered=False)
        try:
            while True:
                with runtime.db.transaction() as session:
                    sent = session.scalar(
                        select(func.count())
                        .select_from(OutboxEmail)
                        .where(OutboxEmail.status == OutboxStatus.SENT)
                    )
                if sent >= requests:
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        finally:
            stop(processes)
            runtime.close()
        print(
            f"{workers} SimpleWorker process(es): {requests} tickets advanced and emailed in "
            f"{elapsed:.2f}s: {requests / elapsed:.0f} tickets/s (including worker start-up); "
            f"the SMTP server accepted {sink.count}"
        )


def worker_classes(jobs: int) -> None:
    for worker_class in (Worker, SimpleWorker):
        rate = trivial_jobs_per_second(jobs, worker_class)
        print(f"rq {worker_class.__name__}: {jobs} trivial jobs: {rate:.0f} jobs/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trivial-jobs", type=int, default=500)
    args = parser.parse_args()
    worker_classes(args.trivial_jobs)
    pipeline(args.requests, args.workers)
