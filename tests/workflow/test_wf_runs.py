"""Running tickets: guard errors at run time and their retries, a job run twice, version pinning
and a validated migration between versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from tests.workflow.conftest import WfRuntime
from tests.workflow.helpers import events, manual, submit, ticket, timers
from ticketbridge.actors import Actor
from ticketbridge.cli import main
from ticketbridge.clock import utcnow
from ticketbridge.errors import WorkflowError
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.jobs.tasks import STEP_RETRY_DELAYS
from ticketbridge.runtime import Runtime
from ticketbridge.staff.accounts import create_staff
from ticketbridge.staff.models import StaffRole
from ticketbridge.tickets.models import Ticket, WaitingOn


class RecordingQueue:
    """Keeps jobs instead of running them, so a test decides when, and how often, they run."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, int]] = []

    def enqueue(self, task: str, ident: int) -> None:
        self.jobs.append((task, ident))

    def enqueue_many(self, task: str, idents: Sequence[int]) -> None:
        self.jobs.extend((task, ident) for ident in idents)

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None:
        self.jobs.append((task, ident))


def test_a_guard_failing_at_run_time_is_retried_then_put_in_front_of_staff(wf: Runtime) -> None:
    ticket_id = submit(wf, "simple")
    failed = ticket(wf, ticket_id)
    assert (failed.state, failed.failures, failed.waiting_on) == ("received", 1, WaitingOn.SYSTEM)
    assert "guard 'form.agents >= 0': No such overload" in (failed.last_error or "")
    with wf.db.transaction() as session:
        session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(form_data={"customer_name": "Acme"})
        )
    for attempt in range(2, len(STEP_RETRY_DELAYS) + 2):
        due = ticket(wf, ticket_id).next_run_at
        assert due is not None
        wf.tasks.advance_ticket(ticket_id, now=due)
        assert ticket(wf, ticket_id).failures == attempt
    stuck = ticket(wf, ticket_id)
    assert (stuck.state, stuck.waiting_on, stuck.next_run_at) == ("received", WaitingOn.STAFF, None)
    assert stuck.last_error == "guard 'form.agents >= 0': no value for 'agents'"
    failures = events(wf, ticket_id, "step_failed")
    assert len(failures) == len(STEP_RETRY_DELAYS) + 1
    assert "Retry 1 of 3" in failures[0].summary and failures[-1].summary.endswith(
        "Waiting for staff."
    )
    assert events(wf, ticket_id, "transition") == []


def test_the_same_job_run_twice_applies_the_transition_once(make_wf_runtime: WfRuntime) -> None:
    queue = RecordingQueue()
    wf = make_wf_runtime(jobs=queue)
    ticket_id = submit(wf, "simple", agents="5")
    assert queue.jobs == [("advance_ticket", ticket_id)]
    wf.tasks.advance_ticket(ticket_id)
    wf.tasks.advance_ticket(ticket_id)
    assert sweep(wf.db, wf.jobs, utcnow()).tickets == 0
    assert [e.payload["transition"] for e in events(wf, ticket_id, "transition")] == ["finish"]
    assert ticket(wf, ticket_id).outcome == "completed"


def publish(workflows_dir: Path, name: str, old: str, new: str) -> None:
    path = workflows_dir / f"{name}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


RENAME_IN_REVIEW = ("in_review", "reviewing")


def test_a_ticket_stays_on_the_version_it_started_on(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    first = make_wf_runtime()
    old_ticket = submit(first, "review", reason="a")
    old_version = ticket(first, old_ticket).workflow_version
    publish(workflows_dir, "review", *RENAME_IN_REVIEW)
    second = make_wf_runtime()
    new_version = second.workflows.current("review").version
    assert new_version != old_version
    new_ticket = submit(second, "review", reason="a")
    assert (ticket(second, new_ticket).workflow_version, ticket(second, new_ticket).state) == (
        new_version,
        "reviewing",
    )
    manual(second, old_ticket, "ask_customer", question="?")
    pinned = ticket(second, old_ticket)
    assert (pinned.workflow_version, pinned.state) == (old_version, "waiting_customer")
    with second.db.transaction() as session:
        assert second.engine.customer_replied(
            session, session.get_one(Ticket, old_ticket), now=utcnow()
        )
    assert ticket(second, old_ticket).state == "in_review"


def test_a_migration_is_validated_first_then_moves_every_ticket_and_records_it(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    first = make_wf_runtime()
    reviewing = submit(first, "review", reason="a")
    waiting = submit(first, "review", token="SRV-second-token", reason="a")
    manual(first, waiting, "ask_customer", question="?")
    old_version = ticket(first, reviewing).workflow_version
    publish(workflows_dir, "review", *RENAME_IN_REVIEW)
    second = make_wf_runtime()
    new_version = second.workflows.current("review").version
    migrate = second.engine.migrate_tickets
    with pytest.raises(WorkflowError) as unmapped:
        with second.db.transaction() as session:
            migrate(
                session,
                "review",
                old_version,
                new_version,
                {"in_review": "reviewing"},
                actor=Actor.staff("admin:bob"),
                now=utcnow(),
            )
    assert (
        "state 'waiting_customer' is in use by 1 ticket(s) and is not mapped; add --map "
        "waiting_customer=<state of the new version>" in unmapped.value.message
    )
    with pytest.raises(
        WorkflowError, match=r"in_review=in_review: 'in_review' is not a state of version"
    ):
        with second.db.transaction() as session:
            migrate(
                session,
                "review",
                old_version,
                new_version,
                {"in_review": "in_review", "waiting_customer": "waiting_customer"},
                actor=Actor.staff("admin:bob"),
                now=utcnow(),
            )
    assert ticket(second, reviewing).workflow_version == old_version
    with second.db.transaction() as session:
        bob = create_staff(
            session, email="bob@team.example", name="Bob", role=StaffRole.ADMIN, password="x" * 12
        ).id
    runner = CliRunner(
        env={
            "TICKETBRIDGE_DATABASE_URL": second.settings.database_url,
            "TICKETBRIDGE_WORKFLOWS_PATH": str(workflows_dir),
            "TICKETBRIDGE_INSTANCE_PATH": str(second.settings.instance_path),
        }
    )
    result = runner.invoke(
        main,
        [
            "workflows",
            "migrate",
            "review",
            "--from",
            old_version,
            "--map",
            "in_review=reviewing",
            "--map",
            "waiting_customer=waiting_customer",
            "--as",
            "Bob@Team.example",
            "--yes",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "in_review → reviewing\t1 ticket(s)\n"
        "waiting_customer → waiting_customer\t1 ticket(s)\n"
        f"moved 2 ticket(s) of review from version {old_version} to {new_version}\n"
    )
    assert result.stderr == "previewed 2/2\nmoved 2/2\n"
    moved = ticket(second, reviewing)
    assert (moved.workflow_version, moved.state, moved.waiting_on) == (
        new_version,
        "reviewing",
        WaitingOn.STAFF,
    )
    [event] = events(second, reviewing, "workflow_migrated")
    assert (event.actor, event.payload) == (
        Actor.staff_account(bob),
        {
            "from_version": old_version,
            "to_version": new_version,
            "from": "in_review",
            "to": "reviewing",
        },
    )
    assert ticket(second, waiting).state == "waiting_customer"
    assert [t.transition for t in timers(second, waiting) if t.pending] == ["no_answer"]
    with second.db.transaction() as session:
        second.engine.fire_manual(
            session,
            session.get_one(Ticket, reviewing),
            "reject",
            staff_role="agent",
            fields={"reason": "incomplete"},
            now=utcnow(),
            actor=Actor.staff("ann"),
        )
    assert ticket(second, reviewing).state == "rejected"


def test_the_migrate_command_rejects_a_bad_map(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    runtime = make_wf_runtime()
    submit(runtime, "review", reason="a")
    version = runtime.workflows.current("review").version
    publish(workflows_dir, "review", *RENAME_IN_REVIEW)
    make_wf_runtime()
    runner = CliRunner(
        env={
            "TICKETBRIDGE_DATABASE_URL": runtime.settings.database_url,
            "TICKETBRIDGE_WORKFLOWS_PATH": str(workflows_dir),
            "TICKETBRIDGE_INSTANCE_PATH": str(runtime.settings.instance_path),
        }
    )
    result = runner.invoke(
        main, ["workflows", "migrate", "review", "--from", version, "--map", "in_review"]
    )
    assert result.exit_code == 2 and "'in_review' is not OLD=NEW" in result.output
    result = runner.invoke(
        main, ["workflows", "migrate", "review", "--from", version, "--map", "received=in_review"]
    )
    assert (
        result.exit_code == 1
        and "state 'in_review' is in use by 1 ticket(s) and is not mapped" in result.output
    )


def test_the_migrate_command_refuses_the_same_from_and_to_version(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    runtime = make_wf_runtime()
    open_ticket = submit(runtime, "review", reason="a")
    before = ticket(runtime, open_ticket)
    version = runtime.workflows.current("review").version
    runner = CliRunner(
        env={
            "TICKETBRIDGE_DATABASE_URL": runtime.settings.database_url,
            "TICKETBRIDGE_WORKFLOWS_PATH": str(workflows_dir),
            "TICKETBRIDGE_INSTANCE_PATH": str(runtime.settings.instance_path),
        }
    )
    for to_version in ([], ["--to", version]):
        result = runner.invoke(
            main,
            ["workflows", "migrate", "review", "--from", version, "--map", "in_review=in_review"]
            + to_version,
        )
        assert result.exit_code == 1
        assert result.output == (
            f"Error: cannot migrate review: --from and --to are both version {version}; name the "
            "version the tickets run on now and a different one to move them to\n"
        )
    after = ticket(runtime, open_ticket)
    assert (after.state, after.outcome, after.updated_at) == (
        before.state,
        before.outcome,
        before.updated_at,
    )
    assert events(runtime, open_ticket, "workflow_migrated") == []
