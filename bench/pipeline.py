"""Throughput of the thin path in production mode: demo requests → rq worker(s) → SMTP.

Creates a throwaway PostgreSQL database, starts aiosmtpd, submits N demo requests through the
intake service (as the web form does), then starts W `ticketbridge worker` processes and times
until every outcome email has been accepted by the SMTP server. Also times rq's forking Worker
against SimpleWorker on trivial jobs, the figure behind the worker class choice.

    .venv/bin/python bench/pipeline.py --requests 500 --workers 2
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from bench.databases import throwaway_postgres
from ticketbridge.clock import utcnow
from ticketbridge.config import PROJECT_ROOT, load_settings
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.runtime import build_runtime

REDIS = "redis://127.0.0.1:6379/14"


class CountingHandler:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


def pipeline(requests: int, workers: int) -> None:
    handler = CountingHandler()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    smtp = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    processes: list[subprocess.Popen[bytes]] = []
    with throwaway_postgres() as url:
        smtp.start()
        try:
            Redis.from_url(REDIS).flushdb()
            instance = Path(tempfile.mkdtemp(prefix="tb-bench-"))
            overrides = {
                "instance_path": str(instance),
                "database_url": url,
                "redis_url": REDIS,
                "secret_key": "bench-secret-" + "0" * 32,
                "smtp_host": "127.0.0.1",
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

            env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETBRIDGE_")}
            env |= {f"TICKETBRIDGE_{k.upper()}": str(v) for k, v in overrides.items()}
            env["TICKETBRIDGE_SWEEP_INTERVAL_SECONDS"] = "3600"
            started = time.perf_counter()
            for _ in range(workers):
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "ticketbridge", "--log-level", "WARNING", "worker"],
                        env=env,
                        cwd=PROJECT_ROOT,
                    )
                )
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
            print(
                f"{workers} SimpleWorker process(es): {requests} tickets advanced and emailed in "
                f"{elapsed:.2f}s: {requests / elapsed:.0f} tickets/s (including worker start-up); "
                f"the SMTP server accepted {handler.count}"
            )
            runtime.close()
        finally:
            for process in processes:
                process.terminate()
                process.wait()
            smtp.stop()


def trivial_job() -> None:
    """The cheapest possible job, to measure the worker's own cost per job."""


def worker_classes(jobs: int) -> None:
    connection = Redis.from_url(REDIS)
    for worker_class in (Worker, SimpleWorker):
        connection.flushdb()
        queue = Queue("bench", connection=connection, serializer=JSONSerializer)
        for _ in range(jobs):
            queue.enqueue("bench.pipeline.trivial_job", result_ttl=0)
        started = time.perf_counter()
        worker_class([queue], connection=connection, serializer=JSONSerializer).work(
            burst=True, logging_level="WARNING"
        )
        elapsed = time.perf_counter() - started
        print(
            f"rq {worker_class.__name__}: {jobs} trivial jobs in {elapsed:.2f}s: "
            f"{jobs / elapsed:.0f} jobs/s"
        )
    connection.flushdb()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trivial-jobs", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_ROOT))
    worker_classes(args.trivial_jobs)
    pipeline(args.requests, args.workers)
