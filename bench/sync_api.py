"""Requests per second of the license sync API (R16) under gunicorn on PostgreSQL: 200s and 304s.

Creates a throwaway PostgreSQL database, seeds L licenses with issued keys and sync secrets,
starts `gunicorn -w W -k gthread wsgi:app` on a free loopback port, then for each phase runs
C client threads (http.client, one keep-alive connection each) polling GET
/api/v1/licenses/{token} round-robin over the licenses, for at most D seconds or N requests:

- "200": plain polls, so every answer is built, hashed and signed;
- "304": polls with If-None-Match, the steady state of a server whose license did not change.

Load goes to 127.0.0.1 only and is bounded in time and count. Everything it starts (the
gunicorn process, the database) is removed at the end.

    .venv/bin/python bench/sync_api.py --licenses 200 --clients 8 --seconds 10 --workers 2
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from ticketbridge import migrate
from ticketbridge.clock import utcnow
from ticketbridge.config import PROJECT_ROOT, load_settings
from ticketbridge.licenses.activation import issue_key
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import License, LicenseState
from ticketbridge.runtime import build_runtime

PG = "postgresql://postgres@127.0.0.1:5432"
HOST = "127.0.0.1"
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


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
                actor="bench",
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
                actor="bench",
                now=now,
            )
            credentials.append((license.token, issued.sync_secret))
    runtime.close()
    return credentials


def start_gunicorn(
    url: str, instance: Path, port: int, workers: int, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TICKETBRIDGE_")}
    env.update(
        TICKETBRIDGE_DATABASE_URL=url,
        TICKETBRIDGE_INSTANCE_PATH=str(instance),
        TICKETBRIDGE_SECRET_KEY=SECRET_KEY,
        TICKETBRIDGE_REDIS_URL="redis://127.0.0.1:6379/13",
    )
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [
            gunicorn,
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "-b",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
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
    process.terminate()
    raise SystemExit(f"gunicorn did not answer on {HOST}:{port} within 30s; see {log}")


def fetch_etags(port: int, credentials: list[tuple[str, str]]) -> dict[str, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    etags = {}
    for token, secret in credentials:
        connection.request(
            "GET", f"/api/v1/licenses/{token}", headers={"Authorization": f"Bearer {secret}"}
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
            connection.request("GET", f"/api/v1/licenses/{token}", headers=headers)
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


def report(phase: Phase, elapsed: float) -> str:
    latencies = sorted(phase.latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return (
        f"{phase.status}: {phase.count} requests in {elapsed:.1f}s = "
        f"{phase.count / elapsed:.0f} req/s; "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; unexpected status: {phase.errors}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--licenses", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="longest time per phase")
    parser.add_argument("--max-requests", type=int, default=100_000, help="most requests per phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    name = f"tb_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    process = None
    try:
        with tempfile.TemporaryDirectory(prefix="tb-bench-") as folder:
            instance = Path(folder) / "instance"
            migrate.upgrade(url)
            credentials = seed(url, instance, args.licenses)
            port = free_port()
            process = start_gunicorn(
                url, instance, port, args.workers, args.threads, Path(folder) / "gunicorn.log"
            )
            etags = fetch_etags(port, credentials)
            print(
                f"gunicorn -w {args.workers} -k gthread --threads {args.threads}, PostgreSQL, "
                f"{args.licenses} licenses, {args.clients} keep-alive client threads, "
                f"{os.cpu_count()} CPUs"
            )
            for tags in (None, etags):
                print(
                    report(
                        *run_phase(
                            port,
                            credentials,
                            tags,
                            clients=args.clients,
                            seconds=args.seconds,
                            max_requests=args.max_requests,
                        )
                    )
                )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
