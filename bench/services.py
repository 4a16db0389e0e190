"""The processes and servers benchmarks start: gunicorn, `ticketbridge worker`, an SMTP sink.

Each benchmark configures what it starts through TICKETBRIDGE_* variables only (as an operator
would), on loopback ports, and stops all of it however the run ends. One copy of each, so the
benchmarks start their servers alike and their figures stay comparable.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer

from ticketbridge.config import PROJECT_ROOT

HOST = "127.0.0.1"
# A Redis database the benchmarks may flush; the test suite points it at its own.
REDIS = os.environ.get("TICKETBRIDGE_BENCH_REDIS", "redis://127.0.0.1:6379/14")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def environment(settings: Mapping[str, object]) -> dict[str, str]:
    """This process's environment without any TICKETBRIDGE_* variable, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TICKETBRIDGE_")}
    env.update({f"TICKETBRIDGE_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def start_gunicorn(
    env: dict[str, str],
    port: int,
    log: Path,
    *,
    workers: int = 2,
    threads: int = 4,
    application: str = "wsgi:app",
) -> subprocess.Popen[bytes]:
    """`gunicorn -k gthread` on `port`, returned once /healthz answers 200."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "-w", str(workers), "-k", "gthread", "--threads", str(threads)]
        + ["-b", f"{HOST}:{port}", "--log-level", "warning", application],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    stop([process])
    raise SystemExit(f"gunicorn did not answer on {HOST}:{port} within 30s; see {log}")


def start_workers(
    env: dict[str, str], count: int, folder: Path, *, registered: bool = True
) -> list[subprocess.Popen[bytes]]:
    """Start `count` `ticketbridge worker` processes (logs in `folder`); with `registered`,
    return once each has registered with rq, so their start-up is not timed."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "ticketbridge", "--log-level", "WARNING", "worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=(folder / f"worker-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(count)
    ]
    if not registered:
        return processes
    connection = Redis.from_url(env["TICKETBRIDGE_REDIS_URL"])
    deadline = time.monotonic() + 60
    while Worker.count(connection=connection) < count:
        if time.monotonic() > deadline:
            stop(processes)
            raise SystemExit(f"{count} worker(s) did not register within 60s; see {folder}")
        time.sleep(0.1)
    return processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate every process, killing those that do not exit within 10 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Sink:
    """An SMTP server's handler that accepts everything and notes when each recipient's first
    email was accepted."""

    accepted: dict[str, float] = field(default_factory=dict)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        now = time.perf_counter()
        with self.lock:
            self.count += 1
            for recipient in envelope.rcpt_tos:  # type: ignore[attr-defined]
                self.accepted.setdefault(recipient, now)
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    """A counting SMTP server on a free loopback port: its handler and its port."""
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname=HOST, port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def trivial_job() -> None:
    """The cheapest possible job: what a worker and the queue alone cost per job."""


def trivial_jobs_per_second(jobs: int, worker_class: type[Worker] = SimpleWorker) -> float:
    """`jobs` trivial jobs run through one rq worker of `worker_class` on REDIS (flushed)."""
    connection = Redis.from_url(REDIS)
    connection.flushdb()
    queue = Queue("bench-trivial", connection=connection, serializer=JSONSerializer)
    for _ in range(jobs):
        queue.enqueue("bench.services.trivial_job", result_ttl=0)
    worker = worker_class([queue], connection=connection, serializer=JSONSerializer)
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    elapsed = time.perf_counter() - started
    connection.flushdb()
    return jobs / elapsed
