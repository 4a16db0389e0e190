"""Requests per second of the license sync API (R16) under gunicorn on PostgreSQL: 200s and 304s.

Creates a throwaway PostgreSQL database, seeds L licenses with issued keys and sync secrets,
starts `gunicorn -w W -k gthread wsgi:app` and the yardstick (`bench.yardstick_app:app`: the
same app plus a constant JSON route) on free loopback ports, then for each phase runs C client
threads (http.client, one keep-alive connection each) polling round-robin over the licenses,
for at most D seconds or N requests in all, split over R rounds that take the phases in turn:

- yardstick: GET /api/v1/yardstick/{token}, the app's middleware stack without the database;
- "200": plain polls of GET /api/v1/licenses/{token}, so every answer is built and signed;
- "304": polls with If-None-Match, the steady state of a server whose license did not change.

Load goes to 127.0.0.1 only and is bounded in time and count. Everything it starts (the
gunicorn processes, the database) is removed at the end.

    .venv/bin/python -m bench.sync_api --licenses 200 --clients 8 --seconds 10 --workers 2
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.databases import throwaway_postgres
from bench.figures import Figure, percentile, watch_memory, write
from bench.services import HOST, REDIS, environment, free_port, start_gunicorn, stop
from ticketbridge.actors import Actor
from ticketbridge.clock import utcnow
from ticketbridge.config import load_settings
from ticketbridge.licenses.activation import issue_key
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import License, LicenseState
from ticketbridge.runtime import build_runtime

LICENSES_PREFIX = "/api/v1/licenses"
YARDSTICK_PREFIX = "/api/v1/yardstick"
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
ENTITLEMENTS = {
    "agents": 25,
    "admins": 1,
    "webphone_sessions": 10,
    "cdr_survey": 1,
    "webrtc": 1,
    "crm": 1,
}


@dataclass
class Phase:
    status: int
    count: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


def seed(url: str, instance: Path, licenses: int) -> list[tuple[str, str]]:
    """L active licenses with keys; returns (token, sync secret) pairs."""
    settings = load_settings(
        environ={},
        overrides={"database_url": url, "instance_path": str(instance), "secret_key": SECRET_KEY},
    )
    runtime = build_runtime(settings)
    credentials = []
    now = utcnow()
    with runtime.db.transaction() as session:
        for number in range(licenses):
            license = License(
                token=f"SRV-BENCH-{number:05d}",
                state=LicenseState.ACTIVE,
                plan="voice",
                billing_frequency="monthly",
                activated_at=now,
                paid_since=now,
            )
            session.add(license)
            session.flush()
            apply_changes(
                session,
                license,
                ENTITLEMENTS,
                effective_at=now,
                ticket_id=None,
                actor=Actor.staff("bench"),
                catalogue=runtime.catalogue,
                paid=True,
            )
            issued = issue_key(
                session,
                license,
                keyring=runtime.keyring,
                secret_key=runtime.settings.secret_key,
                client_key=f"CK{number}",
                hash_key=f"HK{number}",
                actor=Actor.staff("bench"),
                now=now,
            )
            credentials.append((license.token, issued.sync_secret))
    runtime.close()
    return credentials


def fetch_etags(port: int, credentials: list[tuple[str, str]]) -> dict[str, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    etags = {}
    for token, secret in credentials:
        connection.request(
            "GET", f"{LICENSES_PREFIX}/{token}", headers={"Authorization": f"Bearer {secret}"}
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"seed check failed: GET {token} answered {response.status}")
        etags[token] = response.getheader("ETag") or ""
    return etags


def run_phase(
    port: int,
    credentials: list[tuple[str, str]],
    etags: dict[str, str] | None,
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    prefix: str = LICENSES_PREFIX,
) -> tuple[Phase, float]:
    expected = 304 if etags else 200
    phase = Phase(expected)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    per_client = max_requests // clients

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        count, errors, latencies = 0, 0, []
        index = offset
        while count < per_client and time.monotonic() < stop_at:
            token, secret = credentials[index % len(credentials)]
            headers = {"Authorization": f"Bearer {secret}"}
            if etags:
                headers["If-None-Match"] = etags[token]
            started = time.perf_counter()
            connection.request("GET", f"{prefix}/{token}", headers=headers)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            count += 1
            errors += response.status != expected
            index += clients
        connection.close()
        with lock:
            phase.count += count
            phase.errors += errors
            phase.latencies.extend(latencies)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return phase, time.perf_counter() - started


BENCHMARK = "license sync API"
YARDSTICK = "constant JSON route, same app middleware and gunicorn settings"


def figures(
    name: str,
    phase: Phase,
    elapsed: float,
    yardstick: str | None = None,
    target: float | None = None,
) -> list[Figure]:
    """Throughput and latency of one phase; unexpected answers make the run fail."""
    if phase.errors:
        raise SystemExit(f"{name}: {phase.errors} answers were not {phase.status}")
    return [
        Figure(BENCHMARK, f"{name} req/s", phase.count / elapsed, "req/s", yardstick, target),
        Figure(BENCHMARK, f"{name} p50", percentile(phase.latencies, 0.5) * 1000, "ms"),
        Figure(BENCHMARK, f"{name} p99", percentile(phase.latencies, 0.99) * 1000, "ms"),
    ]


def polling(
    port: int,
    credentials: list[tuple[str, str]],
    clients: int,
    *,
    prefix: str = LICENSES_PREFIX,
    conditional: bool = False,
) -> Callable[[float, int], tuple[Phase, float]]:
    """One phase for `interleaved`: `clients` threads polling `prefix` on `port`; with
    `conditional`, with each license's current ETag, fetched anew before each turn (a validity
    step may have passed), so every answer is a 304."""

    def phase(seconds: float, max_requests: int) -> tuple[Phase, float]:
        etags = fetch_etags(port, credentials) if conditional else None
        return run_phase(
            port,
            credentials,
            etags,
            clients=clients,
            seconds=seconds,
            max_requests=max_requests,
            prefix=prefix,
        )

    return phase


def interleaved(
    phases: Sequence[Callable[[float, int], tuple[Phase, float]]],
    *,
    rounds: int,
    seconds: float,
    max_requests: int,
) -> list[tuple[Phase, float]]:
    """Each phase's requests and time, summed over `rounds` rounds that take the phases in turn.

    On a machine shared with other work the load drifts from minute to minute; phases run one
    after the other would each meet a different machine, and their ratio would measure the
    drift. Taking turns every few seconds gives every phase the same mix."""
    totals: list[tuple[Phase, float]] = []
    for _ in range(rounds):
        for index, phase in enumerate(phases):
            result, elapsed = phase(seconds / rounds, max_requests // rounds)
            if index == len(totals):
                totals.append((result, elapsed))
                continue
            total, spent = totals[index]
            total.count += result.count
            total.errors += result.errors
            total.latencies.extend(result.latencies)
            totals[index] = (total, spent + elapsed)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--licenses", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="longest time per phase")
    parser.add_argument("--max-requests", type=int, default=100_000, help="most requests per phase")
    parser.add_argument("--rounds", type=int, default=5, help="turns the phases take")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", help="append the figures to this file (for bench/run_all)")
    args = parser.parse_args()

    processes: list[subprocess.Popen[bytes]] = []
    with throwaway_postgres() as url, tempfile.TemporaryDirectory(prefix="tb-bench-") as folder:
        try:
            instance = Path(folder) / "instance"
            credentials = seed(url, instance, args.licenses)
            env = environment(
                {
                    "database_url": url,
                    "instance_path": instance,
                    "secret_key": SECRET_KEY,
                    "redis_url": REDIS,
                }
            )
            gunicorn = {"workers": args.workers, "threads": args.threads}
            port, constant_port = free_port(), free_port()
            processes.append(start_gunicorn(env, port, Path(folder) / "app.log", **gunicorn))
            processes.append(
                start_gunicorn(
                    env,
                    constant_port,
                    Path(folder) / "yardstick.log",
                    application="bench.yardstick_app:app",
                    **gunicorn,
                )
            )
            print(
                f"gunicorn -w {args.workers} -k gthread --threads {args.threads}, PostgreSQL, "
                f"{args.licenses} licenses, {args.clients} keep-alive client threads, "
                f"{args.rounds} rounds, {os.cpu_count()} CPUs"
            )
            constant = polling(constant_port, credentials, args.clients, prefix=YARDSTICK_PREFIX)
            ok = polling(port, credentials, args.clients)
            not_modified = polling(port, credentials, args.clients, conditional=True)
            fetch_etags(port, credentials)  # each license fetched once: polls after it only read
            with watch_memory([process.pid for process in processes]) as memory:
                measured = interleaved(
                    [constant, ok, not_modified],
                    rounds=args.rounds,
                    seconds=args.seconds,
                    max_requests=args.max_requests,
                )
            base = f"{YARDSTICK} req/s"
            results = [
                *figures(YARDSTICK, *measured[0]),
                *figures("200 (built, signed)", *measured[1], yardstick=base, target=0.3),
                *figures("304 (If-None-Match)", *measured[2], yardstick=base, target=0.5),
                Figure(
                    BENCHMARK,
                    "peak memory of one gunicorn process",
                    memory.largest(),
                    "MB",
                    target=150,
                    higher_is_better=False,
                ),
            ]
            write(args.json, results)
        finally:
            stop(processes)


if __name__ == "__main__":
    main()
