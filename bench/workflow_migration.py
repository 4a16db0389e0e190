"""Tickets per second of a workflow migration's preview and apply on PostgreSQL.

Creates a throwaway database, opens N tickets that wait on staff, publishes a second version of
their workflow, then times the admin's migration as the run's background thread does it
(`staff.workflow_editor.migrate_in_batches`): the preview (each batch moved in a savepoint that
is rolled back) and the apply (each batch committed with its progress), with a progress write
per batch as the run's row gets.

    .venv/bin/python -m bench.workflow_migration --tickets 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bench.databases import throwaway_postgres
from bench.figures import Figure, write
from bench.workflow_transitions import YARDSTICK, build, single_row_commits
from ticketbridge.actors import SYSTEM
from ticketbridge.clock import utcnow
from ticketbridge.runtime import Runtime
from ticketbridge.staff.models import AdminRun, RunPhase
from ticketbridge.staff.runs import start
from ticketbridge.staff.workflow_editor import MIGRATION_BATCH, migrate_in_batches
from ticketbridge.tickets.models import Ticket

WORKFLOW = """\
name: bench
title: Benchmark {version}
form:
  token: optional
initial: received
states:
  received:
    waits_on: staff
    target_time: 1d
  done:
    outcome: completed
transitions:
  - {{name: close, from: received, to: done, trigger: manual, label: Close}}
"""
BENCHMARK = "workflow migration"


def seed(runtime: Runtime, tickets: int) -> tuple[str, str]:
    form = {"customer_name": "Bench", "customer_email": "bench@example.com"}
    for _ in range(tickets):
        with runtime.db.transaction() as session:
            runtime.intake.submit_request(
                session, "bench", {**form, "accept_conditions": True}, now=utcnow()
            )
    old = runtime.workflows.current("bench").version
    with runtime.db.transaction() as session:
        new = runtime.workflows.publish(
            session, WORKFLOW.format(version=2), path="bench.yaml", actor=SYSTEM
        )
    runtime.workflows.refresh()
    return old, new.version


def timed(runtime: Runtime, old: str, new: str, *, apply: bool) -> float:
    """Seconds for the whole migration, its progress written per batch as the run does."""
    with runtime.db.transaction() as session:
        run_id = start(session, "bench", RunPhase.PREVIEW, {}, actor=SYSTEM).id

    def progress(session: Session, done: int, total: int) -> None:
        session.execute(
            update(AdminRun).where(AdminRun.id == run_id).values(done=done, total=total)
        )

    started = time.perf_counter()
    plan = migrate_in_batches(
        runtime,
        "bench",
        old,
        new,
        {"received": "received"},
        actor=SYSTEM,
        apply=apply,
        progress=progress,
    )
    elapsed = time.perf_counter() - started
    assert plan.moves, "nothing to migrate"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--commits", type=int, default=2000, help="yardstick round trips")
    parser.add_argument("--json", help="append the figures to this file (for bench/run_all)")
    args = parser.parse_args()
    with throwaway_postgres() as url:
        results = [Figure(BENCHMARK, YARDSTICK, single_row_commits(url, args.commits), "commits/s")]
        with tempfile.TemporaryDirectory() as folder:
            runtime = build(url, Path(folder), WORKFLOW.format(version=1))
            try:
                old, new = seed(runtime, args.tickets)
                note = f"{args.tickets} open tickets, {MIGRATION_BATCH} per transaction"
                for phase, apply in (("preview", False), ("apply", True)):
                    seconds = timed(runtime, old, new, apply=apply)
                    results.append(
                        Figure(
                            BENCHMARK,
                            f"{phase}: tickets/s",
                            args.tickets / seconds,
                            "tickets/s",
                            yardstick=YARDSTICK,
                            note=f"{note}; {seconds:.1f} s in all",
                        )
                    )
                with runtime.db.transaction() as session:
                    moved = session.scalar(
                        select(func.count()).where(Ticket.workflow_version == new)
                    )
                assert moved == args.tickets, f"{moved} of {args.tickets} moved"
            finally:
                runtime.close()
        write(args.json, results)


if __name__ == "__main__":
    main()
