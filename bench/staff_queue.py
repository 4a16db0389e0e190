"""Server time of the staff queue and search at scale (issue 11: p95 under 50 ms at 100,000).

Creates a throwaway PostgreSQL database, seeds N tickets (a fifth open, spread over request
types, states, waiting-on, assignees and due times; the rest closed) with their customers and
licenses, runs ANALYZE, then signs a staff member in and requests, through the Flask app
in-process, every queue view (with its counts), a later keyset page, searches by reference,
token, customer name and email, and the staff JSON API's queue. For each it records:

- server time: from the moment the WSGI app is called until its whole answer is produced
  (routing, the session, the read layer's queries, the template) — what the issue's target is
  about, timed by a WSGI wrapper so the test client's own work is left out;
- the whole request as the test client sees it;
- PostgreSQL's own execution time of every statement one such request ran (EXPLAIN ANALYZE,
  summed), for a few of the requests: the part that grows with the data.

Each page starts with an empty counts cache (tickets/queries.CountsCache: the counts are reused
for a few seconds), so its first request counts; one more row counts on every request, to show
what a page costs when no other page counted moments before.

Prints p50/p95/max per page as a Markdown table; with --json appends each page's server p95
(target ≤ 50 ms) for bench/run_all.

    .venv/bin/python -m bench.staff_queue --tickets 100000 --rounds 60
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text

from bench.databases import throwaway_postgres
from bench.figures import Figure, percentile, write
from ticketbridge.app import create_app
from ticketbridge.config import load_settings
from ticketbridge.customers.models import Customer
from ticketbridge.http.context import COUNTS_CACHE
from ticketbridge.licenses.models import License
from ticketbridge.runtime import Runtime, build_runtime
from ticketbridge.staff.accounts import create_staff, issue_api_token
from ticketbridge.staff.models import StaffRole
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.tickets.queries import COUNTS_FRESH_FOR, CountsCache

BENCHMARK = "staff queue at scale"
TARGET_MS = 50.0
PASSWORD = "benchmark passphrase"
TYPES = {
    "general": [("received", WaitingOn.STAFF), ("waiting_customer", WaitingOn.CUSTOMER)],
    "plan": [("admin_check", WaitingOn.STAFF), ("waiting_customer", WaitingOn.CUSTOMER)],
    "grace": [("review", WaitingOn.STAFF), ("waiting_log", WaitingOn.CUSTOMER)],
    "key": [("verify", WaitingOn.STAFF)],
}
CHUNK = 5000
LATER_PAGE = 20
YARDSTICK = "yardstick: /healthz (no database)"
UNCACHED = "queue: waiting on staff, counts never reused"


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


class ServerClock:
    """WSGI middleware that times the app from its call until its answer's last byte: the
    server time of the request, without the test client's cookie jar and response wrapping."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.last_ms = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        answer = self.app(environ, start_response)
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        self.last_ms = (time.perf_counter() - started) * 1000
        return [body]


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


@dataclass
class Timings:
    """One page's samples, in milliseconds."""

    server: list[float] = field(default_factory=list)
    request: list[float] = field(default_factory=list)
    database: list[float] = field(default_factory=list)


@dataclass
class Client:
    """The test client behind the server clock, asserting that every answer is a 200."""

    client: Any
    clock: ServerClock
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, path: str) -> Any:
        response = self.client.get(path, headers=self.headers if "/api/" in path else {})
        assert response.status_code == 200, (path, response.status_code)
        return response

    def timed(self, path: str, timings: Timings) -> None:
        started = time.perf_counter()
        self.get(path)
        timings.request.append((time.perf_counter() - started) * 1000)
        timings.server.append(self.clock.last_ms)


def later_marker(client: Client, path: str, pages: int) -> str:
    """The page marker `pages` pages into a view, followed the way a reader would."""
    marker = ""
    for _ in range(pages):
        answer = client.get(f"{path}&after={marker}" if marker else path).text
        if "after=" not in answer:
            break
        marker = answer.split("after=")[1].split('"')[0]
    return marker


def pages(client: Client, tickets: int) -> dict[str, str]:
    closed = later_marker(client, "/staff/?view=closed", LATER_PAGE - 1)
    waiting = later_marker(client, "/staff/?view=staff", 4)
    return {
        YARDSTICK: "/healthz",
        "queue: waiting on staff": "/staff/",
        "queue: waiting on customer": "/staff/?view=customer",
        "queue: mine": "/staff/?view=mine",
        "queue: unassigned": "/staff/?view=unassigned",
        "queue: overdue": "/staff/?view=overdue",
        "queue: by type": "/staff/?view=type&type=plan",
        "queue: by state": "/staff/?view=state&type=grace&state=review",
        "queue: closed": "/staff/?view=closed",
        "queue: waiting on staff, page 5": f"/staff/?view=staff&after={waiting}",
        f"queue: closed, page {LATER_PAGE}": f"/staff/?view=closed&after={closed}",
        UNCACHED: "/staff/",
        "search: reference": f"/staff/?q=LIC-{tickets // 2:06d}",
        "search: token": f"/staff/?q=SRV-{max(1, tickets // 35):08d}",
        "search: customer name": "/staff/?q=customer 1234",
        "search: email": "/staff/?q=customer77%40example",
        "api: GET /api/v1/tickets": "/api/v1/tickets",
        "api: search by email": "/api/v1/tickets?q=customer77%40example",
    }


def signed_in(runtime: Runtime) -> tuple[Client, list[int]]:
    """Five staff members, the second signed in (and holding an API token), and their ids."""
    with runtime.db.transaction() as session:
        staff = [
            create_staff(
                session,
                email=f"agent{i}@team.example",
                name=f"Agent {i}",
                role=StaffRole.ADMIN if i == 0 else StaffRole.AGENT,
                password=PASSWORD,
            )
            for i in range(5)
        ]
        token = issue_api_token(staff[1])
        staff_ids = [member.id for member in staff]
    app = create_app(runtime=runtime)
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    clock = ServerClock(app.wsgi_app)
    app.wsgi_app = clock  # type: ignore[method-assign]
    client = app.test_client()
    answer = client.post(
        "/staff/sign-in", data={"email": "agent1@team.example", "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.status_code
    return Client(client, clock, {"Authorization": f"Bearer {token}"}), staff_ids


def measure(tickets: int, rounds: int) -> dict[str, Timings]:
    with throwaway_postgres() as url, tempfile.TemporaryDirectory() as folder:
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
            client, staff_ids = signed_in(runtime)
            started = time.perf_counter()
            seed(runtime, tickets, staff_ids)
            print(f"seeded {tickets} tickets in {time.perf_counter() - started:.1f} s", flush=True)
            results: dict[str, Timings] = {}
            for kind, path in pages(client, tickets).items():
                # Every page after a fresh counts cache; one kind with counts counted each time.
                fresh_for = 0.0 if kind == UNCACHED else COUNTS_FRESH_FOR
                client.client.application.extensions[COUNTS_CACHE] = CountsCache(fresh_for)
                timings = results[kind] = Timings()
                client.get(path)
                for _ in range(max(3, rounds // 10)):
                    with statements(runtime) as seen:
                        client.get(path)
                    timings.database.append(database_ms(runtime, seen))
                for _ in range(rounds):
                    client.timed(path, timings)
            return results
        finally:
            runtime.close()


def figures(results: dict[str, Timings]) -> list[Figure]:
    return [
        Figure(
            BENCHMARK,
            f"{kind}, server p95",
            percentile(timings.server, 0.95),
            "ms",
            target=None if kind == YARDSTICK else TARGET_MS,
            higher_is_better=False,
        )
        for kind, timings in results.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--json", help="append the figures to this file (for bench/run_all)")
    args = parser.parse_args()
    results = measure(args.tickets, args.rounds)
    print(f"\n{args.tickets} tickets, {args.rounds} requests each (ms)\n")
    print(
        "| page | server p50 | server p95 | server max | request p95 | database p95 |\n"
        "|---|---:|---:|---:|---:|---:|"
    )
    for kind, t in results.items():
        print(
            f"| {kind} | {statistics.median(t.server):.1f} | {percentile(t.server, 0.95):.1f} "
            f"| {max(t.server):.1f} | {percentile(t.request, 0.95):.1f} "
            f"| {percentile(t.database, 0.95):.1f} |"
        )
    write(args.json, figures(results))


if __name__ == "__main__":
    main()
