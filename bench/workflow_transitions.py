"""Transitions per second of the workflow engine on PostgreSQL.

Creates a throwaway database, submits N requests of a three-step automatic workflow (the jobs
are held back, so creation is not timed), then times the `advance_ticket` job over every ticket:
each call locks the ticket row, evaluates the guards, takes three transitions with their
timeline events and commits. Run with several threads to see the row-lock path under
contention-free parallelism.

    .venv/bin/python -m bench.workflow_transitions --tickets 500 --threads 1 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from bench.databases import throwaway_postgres
from bench.figures import Figure, watch_memory, write
from ticketbridge.clock import utcnow
from ticketbridge.config import PROJECT_ROOT, load_settings
from ticketbridge.runtime import Runtime, build_runtime
from ticketbridge.tickets.models import TicketEvent

WORKFLOW = """\
name: bench
title: Benchmark
form:
  token: optional
  fields:
    - {name: agents, type: integer}
initial: received
states:
  received:
  checked:
  applied:
  done:
    outcome: completed
transitions:
  - {name: check, from: received, to: checked, guard: form.agents >= 5}
  - {name: apply, from: checked, to: applied, guard: license.state == "not_active"}
  - {name: finish, from: applied, to: done}
"""
TRANSITIONS_PER_TICKET = 3


class HeldJobs:
    """Jobs (emails, timers) are not part of what is measured: the benchmark loop runs the
    advances itself, and nothing else runs."""

    def enqueue(self, task: str, ident: int) -> None:
        pass

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None:
        pass

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None:
        pass


def build(url: str, folder: Path, workflow: str = WORKFLOW) -> Runtime:
    (folder / "bench.yaml").write_text(workflow, encoding="utf-8")
    settings = load_settings(
        environ={},
        overrides={
            "instance_path": str(folder / "instance"),
            "database_url": url,
            "workflows_path": str(folder),
            "email_templates_path": str(PROJECT_ROOT / "email_templates"),
        },
    )
    return build_runtime(settings, jobs=HeldJobs())


def submit(runtime: Runtime, form: dict[str, object]) -> int:
    with runtime.db.transaction() as session:
        return runtime.intake.submit_request(session, "bench", form, now=utcnow())


def transition_count(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).where(TicketEvent.kind == "transition")) or 0


def measure(runtime: Runtime, tickets: int, threads: int) -> float:
    form = {
        "customer_name": "Bench",
        "customer_email": "bench@example.com",
        "accept_conditions": True,
        "agents": 5,
    }
    ids = [
        submit(runtime, {**form, "token": f"BENCH-{uuid.uuid4().hex[:16]}"}) for _ in range(tickets)
    ]
    before = transition_count(runtime)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda ticket_id: runtime.tasks.advance_ticket(ticket_id), ids))
    elapsed = time.perf_counter() - started
    taken = transition_count(runtime) - before
    assert taken == tickets * TRANSITIONS_PER_TICKET, f"{taken} transitions for {tickets} tickets"
    return taken / elapsed


BENCHMARK = "workflow engine"
YARDSTICK = "PostgreSQL single-row commits/s"


def single_row_commits(url: str, count: int) -> float:
    """The yardstick: one-row UPDATE + COMMIT round trips on the same server and database."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("CREATE TEMPORARY TABLE yardstick (id int PRIMARY KEY, n int)")
        connection.execute("INSERT INTO yardstick VALUES (1, 0)")
        started = time.perf_counter()
        for _ in range(count):
            with connection.transaction():
                connection.execute("UPDATE yardstick SET n = n + 1 WHERE id = 1")
        return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--commits", type=int, default=2000, help="yardstick round trips")
    parser.add_argument("--json", help="append the figures to this file (for bench/run_all)")
    args = parser.parse_args()
    with throwaway_postgres() as url:
        results = [Figure(BENCHMARK, YARDSTICK, single_row_commits(url, args.commits), "commits/s")]
        with tempfile.TemporaryDirectory() as folder, watch_memory([os.getpid()]) as memory:
            runtime = build(url, Path(folder))
            try:
                measure(runtime, 20, 1)
                for threads in args.threads:
                    rate = measure(runtime, args.tickets, threads)
                    results.append(
                        Figure(
                            BENCHMARK,
                            f"transitions/s, {threads} thread(s)",
                            rate,
                            "transitions/s",
                            yardstick=YARDSTICK,
                            note=f"{args.tickets} tickets x {TRANSITIONS_PER_TICKET} transitions",
                        )
                    )
            finally:
                runtime.close()
        results.append(
            Figure(
                BENCHMARK,
                "peak memory of the process running the engine",
                memory.largest(),
                "MB",
                target=150,
                higher_is_better=False,
            )
        )
        write(args.json, results)


if __name__ == "__main__":
    main()
