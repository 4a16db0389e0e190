"""Forms end to end in production mode: HTTP POST → ticket → automatic steps → email accepted.

What the customer waits for, measured the way they wait: from the POST of a demo request form to
gunicorn (PostgreSQL, jobs on rq) until the SMTP server has accepted its outcome email. Runs
with 1 and then 2 `ticketbridge worker` processes, and measures its yardstick in the same run:
one rq SimpleWorker running trivial jobs (what the queue alone costs on this machine today).

Client threads each fetch the form (for its CSRF token and server-issued submission id, as a
browser does) and post it, with a fresh server token per request. Load goes to 127.0.0.1 only
and is bounded by count and time; everything it starts is stopped and its database dropped.

    .venv/bin/python -m bench.forms_e2e --requests 300 --clients 4 --workers 1 2
"""

from __future__ import annotations

import argparse
import html
import http.client
import re
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from bench.databases import throwaway_postgres
from bench.figures import Figure, percentile, watch_memory, write
from bench.services import (
    HOST,
    REDIS,
    environment,
    free_port,
    smtp_sink,
    start_gunicorn,
    start_workers,
    stop,
    trivial_jobs_per_second,
)

SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
BENCHMARK = "forms end to end"
YARDSTICK = "trivial rq jobs/s, 1 SimpleWorker"


def settings(url: str, instance: Path, smtp_port: int, web_port: int) -> dict[str, str]:
    return {
        "database_url": url,
        "redis_url": REDIS,
        "instance_path": str(instance),
        "secret_key": SECRET_KEY,
        "public_url": f"http://{HOST}:{web_port}",
        "smtp_host": HOST,
        "smtp_port": str(smtp_port),
        "mail_rate_cap_per_hour": "0",
        # Every simulated customer posts from 127.0.0.1: one address, so no per-address limit.
        "form_rate_limit": "1000000 per minute",
        "sweep_interval_seconds": "5",
    }


@dataclass
class Client:
    """One browser: a keep-alive connection and its session cookie."""

    port: int
    cookie: str = ""

    def __post_init__(self) -> None:
        self.connection = http.client.HTTPConnection(HOST, self.port, timeout=30)

    def _send(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        return response.status, text

    def submit(self, number: int, run: str) -> tuple[float, float]:
        """Fetch the form, post it; when the POST started and the seconds it took (the
        customer's wait)."""
        status, page = self._send("GET", "/requests/demo")
        if status != 200:
            raise SystemExit(f"GET /requests/demo answered {status}")
        form = {name: html.unescape(value) for name, value in HIDDEN.findall(page)}
        form |= {
            "token": f"SRV-{run}-{number:06d}",
            "customer_name": f"Bench customer {number}",
            "customer_email": f"bench-{run}-{number}@acme.example",
            "accept_conditions": "on",
        }
        started = time.perf_counter()
        status, page = self._send("POST", "/requests/demo", urllib.parse.urlencode(form))
        took = time.perf_counter() - started
        if status != 303:
            raise SystemExit(f"POST /requests/demo answered {status}: {page[:300]}")
        return started, took


def run(requests: int, clients: int, workers: int) -> list[Figure]:
    """Post `requests` forms from `clients` threads; time each until its email is accepted."""
    Redis.from_url(REDIS).flushdb()
    web_port = free_port()
    run_id = uuid.uuid4().hex[:6]
    submitted: dict[str, float] = {}
    posts: list[float] = []
    lock = threading.Lock()
    with (
        smtp_sink() as (sink, smtp_port),
        throwaway_postgres() as url,
        tempfile.TemporaryDirectory(prefix="tb-bench-") as name,
    ):
        folder = Path(name)
        env = environment(settings(url, folder / "instance", smtp_port, web_port))
        web = start_gunicorn(env, web_port, folder / "gunicorn.log")
        pool = start_workers(env, workers, folder)
        try:
            with watch_memory([web.pid, *(p.pid for p in pool)]) as memory:

                def customer(offset: int) -> None:
                    client = Client(web_port)
                    for number in range(offset, requests, clients):
                        posted, took = client.submit(number, run_id)
                        with lock:
                            posts.append(took)
                            submitted[f"bench-{run_id}-{number}@acme.example"] = posted

                started = time.perf_counter()
                threads = [threading.Thread(target=customer, args=(n,)) for n in range(clients)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                # Slow is a figure, stuck is a failure: wait while emails keep arriving.
                seen, quiet_since = 0, time.monotonic()
                while len(sink.accepted) < requests and time.monotonic() - quiet_since < 60:
                    if len(sink.accepted) > seen:
                        seen, quiet_since = len(sink.accepted), time.monotonic()
                    time.sleep(0.05)
                elapsed = max(sink.accepted.values(), default=started) - started
        finally:
            stop([web, *pool])
    if len(sink.accepted) < requests:
        raise SystemExit(f"only {len(sink.accepted)} of {requests} outcome emails arrived")
    waits = [sink.accepted[email] - at for email, at in submitted.items()]
    label = f"{workers} worker{'s' if workers > 1 else ''}"
    return [
        Figure(
            BENCHMARK,
            f"tickets emailed/s, {label}",
            requests / elapsed,
            "tickets/s",
            yardstick=YARDSTICK,
            target=2.0,
        ),
        Figure(BENCHMARK, f"HTTP POST p50, {label}", percentile(posts, 0.50) * 1000, "ms"),
        Figure(BENCHMARK, f"HTTP POST p95, {label}", percentile(posts, 0.95) * 1000, "ms"),
        Figure(
            BENCHMARK,
            f"HTTP POST p99, {label}",
            percentile(posts, 0.99) * 1000,
            "ms",
            target=100,
            higher_is_better=False,
        ),
        Figure(BENCHMARK, f"form to SMTP p50, {label}", percentile(waits, 0.50) * 1000, "ms"),
        Figure(BENCHMARK, f"form to SMTP p95, {label}", percentile(waits, 0.95) * 1000, "ms"),
        Figure(
            BENCHMARK,
            f"form to SMTP p99, {label}",
            percentile(waits, 0.99) * 1000,
            "ms",
            target=1000,
            higher_is_better=False,
        ),
        Figure(
            BENCHMARK,
            f"peak memory of one process, {label}",
            memory.largest(),
            "MB",
            target=150,
            higher_is_better=False,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--trivial-jobs", type=int, default=1000)
    parser.add_argument("--json", help="append the figures to this file (for bench/run_all)")
    args = parser.parse_args()
    rate = trivial_jobs_per_second(args.trivial_jobs)
    figures = [Figure(BENCHMARK, YARDSTICK, rate, "jobs/s")]
    rates = {}
    for workers in args.workers:
        measured = run(args.requests, args.clients, workers)
        rates[workers] = measured[0].value
        figures += measured
    if 1 in rates and 2 in rates:
        figures.append(
            Figure(
                BENCHMARK,
                "scale-out: tickets/s of 2 workers ÷ 1 worker",
                rates[2] / rates[1],
                "×",
                target=1.8,
                note="two worker processes should do close to twice the work of one",
            )
        )
    write(args.json, figures)


if __name__ == "__main__":
    main()
