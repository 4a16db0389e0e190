"""Server time of the staff queue and search at scale (issue 11: p95 under 50 ms at 100,000).

Creates a throwaway PostgreSQL database, seeds N tickets (a fifth open, spread over request
types, states, waiting-on, assignees and due times; the rest closed) with their customers and
licenses, runs ANALYZE, then signs a staff member in and times whole requests through the
Flask app in-process — routing, the session, the read layer's queries and the template — for
every queue view (with its counts), a deep keyset page, and searches by reference, token,
customer name and email; and, for a few of those requests, PostgreSQL's own execution time of
every statement they ran (EXPLAIN ANALYZE). Prints p50/p95/max per kind as a Markdown table
for BENCHMARKS.md.

    .venv/bin/python -m bench.queue --tickets 100000 --rounds 60

(Run it as a module: as a script its name would shadow the standard library's `queue`.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, insert, text

from ticketbridge import migrate
from ticketbridge.app import create_app
from ticketbridge.config import load_settings
from ticketbridge.customers.models import Customer
from ticketbridge.licenses.models import License
from ticketbridge.runtime import Runtime, build_runtime
from ticketbridge.staff.accounts import create_staff
from ticketbridge.staff.models import StaffRole
from ticketbridge.tickets.models import Ticket, WaitingOn

PG = "postgresql://postgres@127.0.0.1:5432"
PASSWORD = "benchmark passphrase"
TYPES = {
    "general": [("received", WaitingOn.STAFF), ("waiting_customer", WaitingOn.CUSTOMER)],
    "plan": [("admin_check", WaitingOn.STAFF), ("waiting_customer", WaitingOn.CUSTOMER)],
    "grace": [("review", WaitingOn.STAFF), ("waiting_log", WaitingOn.CUSTOMER)],
    "key": [("verify", WaitingOn.STAFF)],
}
CHUNK = 5000


@contextmanager
def throwaway_database() -> Iterator[str]:
    name = f"tb_bench_queue_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/test", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(f"{PG}/test", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(runtime: Runtime, tickets: int, staff_ids: list[int]) -> None:
    rng = random.Random(11)
    now = dt.datetime.now(dt.UTC)
    customers = max(1, tickets // 5)
    with runtime.db.transaction() as session:
        for start in range(0, customers, CHUNK):
            session.execute(
                insert(Customer),
                [
                    {"email": f"customer{i}@example{i % 97}.com", "name": f"Customer {i} Ltd"}
                    for i in range(start, min(customers, start + CHUNK))
                ],
            )
            session.execute(
                insert(License),
                [
                    {"token": f"SRV-{i:08d}", "customer_id": i + 1, "entitlements": {}}
                    for i in range(start, min(customers, start + CHUNK))
                ],
            )
    with runtime.db.transaction() as session:
        for start in range(0, tickets, CHUNK):
            rows = []
            for i in range(start, min(tickets, start + CHUNK)):
                created = now - dt.timedelta(minutes=(tickets - i) * 3)
                request_type = rng.choice(list(TYPES))
                state, waiting = rng.choice(TYPES[request_type])
                is_open = rng.random() < 0.2
                rows.append(
                    {
                        "request_type": request_type,
                        "workflow_name": request_type,
                        "workflow_version": "bench",
                        "state": state if is_open else "resolved",
                        "outcome": None if is_open else "completed",
                        "waiting_on": waiting if is_open else WaitingOn.NOBODY,
                        "customer_id": rng.randrange(customers) + 1,
                        "license_id": rng.randrange(customers) + 1,
                        "form_data": {},
                        "created_at": created,
                        "updated_at": created,
                        "closed_at": None if is_open else created + dt.timedelta(hours=5),
                        "assignee_id": rng.choice([None, None, *staff_ids]) if is_open else None,
                        "due_at": created + dt.timedelta(days=1)
                        if is_open and waiting is WaitingOn.STAFF
                        else None,
                        "row_version": 1,
                        "failures": 0,
                    }
                )
            session.execute(insert(Ticket), rows)
    with runtime.db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with their parameters) run inside the block."""
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(runtime.db.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", keep)


def database_ms(runtime: Runtime, seen: list[tuple[str, Any]]) -> float:
    """PostgreSQL's own execution time of the statements (EXPLAIN ANALYZE), summed: the part
    of a request that grows with the data, measured without the client's scheduling noise."""
    total = 0.0
    with runtime.db.engine.connect() as connection:
        cursor = connection.connection.cursor()
        for statement, parameters in seen:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            total += cursor.fetchone()[0][0]["Execution Time"]
    return total


def timed(client: object, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)  # type: ignore[attr-defined]
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def measure(tickets: int, rounds: int) -> dict[str, tuple[list[float], list[float]]]:
    with throwaway_database() as url, tempfile.TemporaryDirectory() as folder:
        migrate.upgrade(url)
        settings = load_settings(
            environ={},
            overrides={
                "instance_path": str(Path(folder) / "instance"),
                "database_url": url,
                "secret_key": "bench-secret-key-0123456789abcdef0123",
            },
        )
        runtime = build_runtime(settings)
        try:
            with runtime.db.transaction() as session:
                staff_ids = [
                    create_staff(
                        session,
                        email=f"agent{i}@team.example",
                        name=f"Agent {i}",
                        role=StaffRole.ADMIN if i == 0 else StaffRole.AGENT,
                        password=PASSWORD,
                    ).id
                    for i in range(5)
                ]
            started = time.perf_counter()
            seed(runtime, tickets, staff_ids)
            print(f"seeded {tickets} tickets in {time.perf_counter() - started:.1f} s")
            app = create_app(runtime=runtime)
            app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
            client = app.test_client()
            signed_in = client.post(
                "/staff/sign-in", data={"email": "agent1@team.example", "password": PASSWORD}
            )
            assert signed_in.status_code == 303
            deep = client.get("/staff/?view=closed").text
            marker = deep.split("after=")[1].split('"')[0] if "after=" in deep else ""
            pages = {
                "yardstick: /healthz (no database)": "/healthz",
                "queue: waiting on staff": "/staff/",
                "queue: waiting on customer": "/staff/?view=customer",
                "queue: mine": "/staff/?view=mine",
                "queue: unassigned": "/staff/?view=unassigned",
                "queue: overdue": "/staff/?view=overdue",
                "queue: by type": "/staff/?view=type&type=plan",
                "queue: by state": "/staff/?view=state&type=grace&state=review",
                "queue: closed, page 2": f"/staff/?view=closed&after={marker}",
                "search: reference": f"/staff/?q=LIC-{tickets // 2:06d}",
                "search: token": f"/staff/?q=SRV-{tickets // 7:08d}",
                "search: customer name": "/staff/?q=customer 1234",
                "search: email": "/staff/?q=customer77%40example",
            }
            results: dict[str, tuple[list[float], list[float]]] = {}
            for kind, path in pages.items():
                timed(client, path)
                database = []
                for _ in range(max(3, rounds // 10)):
                    with statements(runtime) as seen:
                        timed(client, path)
                    database.append(database_ms(runtime, seen))
                results[kind] = ([timed(client, path) for _ in range(rounds)], database)
            return results
        finally:
            runtime.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    results = measure(args.tickets, args.rounds)
    print(f"\n{args.tickets} tickets, {args.rounds} requests each (ms)\n")
    print("| page | request p50 | request p95 | request max | database p95 |")
    print("|---|---:|---:|---:|---:|")
    for kind, (values, database) in results.items():
        print(
            f"| {kind} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} "
            f"| {max(values):.1f} | {percentile(database, 0.95):.1f} |"
        )


if __name__ == "__main__":
    main()
