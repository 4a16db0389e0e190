"""Replays and migrations run in the background with their progress on a row the page polls:
a failure in the middle of a move leaves every ticket moved or untouched and resuming moves the
rest; the page refreshes itself while a run goes on and says when one stopped; the CLI prints
its progress to stderr and asks before it writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from tests.staff.conftest import open_request, signed_in
from ticketbridge.actors import Actor
from ticketbridge.cli import main
from ticketbridge.cli.context import State
from ticketbridge.clock import utcnow
from ticketbridge.errors import WorkflowError
from ticketbridge.runtime import Runtime
from ticketbridge.staff import runs, workflow_editor
from ticketbridge.staff.models import AdminRun, RunPhase, RunStatus
from ticketbridge.tickets.models import Ticket, TicketEvent

GENERAL = {
    "customer_name": "Gus",
    "customer_email": "gus@cust.example",
    "accept_conditions": "on",
    "description": "Please help",
}


def _old_version_with_open_tickets(app: Flask, runtime: Runtime, count: int) -> tuple[str, str]:
    """`count` open general tickets in `received` on a version that is no longer in force."""
    for _ in range(count):
        open_request(app, "general", GENERAL)
    old = runtime.workflows.current("general")
    draft = old.source.replace("the license team reviews it", "the team reviews it")
    assert draft != old.source
    with runtime.db.transaction() as session:
        new = workflow_editor.publish(session, runtime, "general", draft, actor=Actor.staff("t"))
    runtime.workflows.refresh()
    return old.version, new.version


def _versions(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Ticket.workflow_version).order_by(Ticket.id)))


def _not_used(*_: Any) -> list[Any]:
    raise AssertionError("a migration run does not replay")


def test_a_failed_move_leaves_each_ticket_moved_or_untouched_and_resuming_moves_the_rest(
    app: Flask, staff_runtime: Runtime, people, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = _old_version_with_open_tickets(app, staff_runtime, 3)
    monkeypatch.setattr(workflow_editor, "MIGRATION_BATCH", 1)
    params = {"from_version": old, "to_version": new, "state_map": {"received": "received"}}
    with staff_runtime.db.transaction() as session:
        run_id = runs.start(
            session, "general", RunPhase.PREVIEW, params, actor=Actor.staff_account(people["ada"])
        ).id
    runs.execute(staff_runtime, run_id, _not_used)
    assert _versions(staff_runtime) == [old, old, old]
    with staff_runtime.db.transaction() as session:
        run = session.get_one(AdminRun, run_id)
        assert (run.status, run.done, run.total, len(run.result["moves"])) == (
            RunStatus.FINISHED,
            3,
            3,
            3,
        )
        runs.confirm(session, run_id, actor=Actor.staff_account(people["ada"]), now=utcnow())

    engine_migrate = staff_runtime.engine.migrate_tickets
    calls = []

    def fails_on_the_second_batch(*args: Any, **kwargs: Any) -> list[int]:
        calls.append(kwargs["ticket_ids"])
        if len(calls) == 2:
            raise WorkflowError("the database went away")
        return engine_migrate(*args, **kwargs)

    monkeypatch.setattr(staff_runtime.engine, "migrate_tickets", fails_on_the_second_batch)
    runs.execute(staff_runtime, run_id, _not_used)
    assert _versions(staff_runtime) == [new, old, old]
    with staff_runtime.db.transaction() as session:
        run = session.get_one(AdminRun, run_id)
        assert (run.status, run.done, run.error) == (
            RunStatus.FAILED,
            1,
            "the database went away",
        )
    page = signed_in(app, "ada@team.example").get(f"/staff/admin/runs/{run_id}").text
    assert "1 of 3 ticket(s) were moved" in page and 'id="resume"' in page

    monkeypatch.setattr(staff_runtime.engine, "migrate_tickets", engine_migrate)
    with staff_runtime.db.transaction() as session:
        runs.confirm(session, run_id, actor=Actor.staff_account(people["ada"]), now=utcnow())
    runs.execute(staff_runtime, run_id, _not_used)
    assert _versions(staff_runtime) == [new, new, new]
    with staff_runtime.db.transaction() as session:
        moved_events = session.scalar(
            select(func.count()).where(TicketEvent.kind == "workflow_migrated")
        )
        run = session.get_one(AdminRun, run_id)
    assert moved_events == 3
    assert (run.status, run.done, run.total) == (RunStatus.FINISHED, 2, 2)


def test_the_run_page_refreshes_while_running_and_says_when_a_run_stopped(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    with staff_runtime.db.transaction() as session:
        run = runs.start(
            session,
            "general",
            RunPhase.APPLY,
            {"from_version": "a" * 64, "to_version": "b" * 64, "state_map": {}},
            actor=Actor.staff_account(people["ada"]),
        )
        run.done, run.total = 3, 10
        run_id = run.id
    admin = signed_in(app, "ada@team.example")
    page = admin.get(f"/staff/admin/runs/{run_id}").text
    assert '<meta http-equiv="refresh"' in page
    assert 'value="3"' in page and "3 of 10 tickets; this page refreshes itself" in page
    assert 'id="resume"' not in page
    assert admin.post(f"/staff/admin/runs/{run_id}/confirm").status_code == 409

    with staff_runtime.db.transaction() as session:
        session.get_one(AdminRun, run_id).updated_at = utcnow() - dt.timedelta(minutes=6)
    page = admin.get(f"/staff/admin/runs/{run_id}").text
    assert "Stopped: no progress since" in page and '<meta http-equiv="refresh"' not in page
    assert "3 of 10 ticket(s) were moved" in page and 'id="resume"' in page
    assert signed_in(app, "ann@team.example").get(f"/staff/admin/runs/{run_id}").status_code == 403
    assert admin.get("/staff/admin/runs/999").status_code == 404


def test_cli_migrate_previews_with_progress_and_writes_nothing_unless_confirmed(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    old, new = _old_version_with_open_tickets(app, staff_runtime, 2)
    state = State()
    state._settings, state._runtime = staff_runtime.settings, staff_runtime
    command = ["workflows", "migrate", "general", "--from", old, "--map", "received=received"]

    declined = CliRunner().invoke(main, [*command, "--as", "ada@team.example"], "n\n", obj=state)
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert "received → received\t2 ticket(s)" in declined.stdout
    assert "previewed 2/2" in declined.stderr and "moved" not in declined.stderr
    assert _versions(staff_runtime) == [old, old]

    accepted = CliRunner().invoke(main, [*command, "--as", "ada@team.example"], "y\n", obj=state)
    assert accepted.exit_code == 0, accepted.output
    assert "moved 2/2" in accepted.stderr
    assert _versions(staff_runtime) == [new, new]
    with staff_runtime.db.transaction() as session:
        actors = set(
            session.scalars(
                select(TicketEvent.actor).where(TicketEvent.kind == "workflow_migrated")
            )
        )
    assert actors == {Actor.staff_account(people["ada"])}
