"""Every trigger kind: automatic, manual (role, fields, state), customer reply, timer (after,
at)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from tests.workflow.helpers import events, manual, submit, ticket, timers
from ticketbridge.actors import SYSTEM, TIMER, Actor
from ticketbridge.clock import utcnow
from ticketbridge.errors import Conflict, NotFound, ValidationError
from ticketbridge.jobs.sweeper import sweep
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.workflow.engine import NotAllowed
from ticketbridge.workflow.models import WorkflowTimer


def replied(runtime: Runtime, ticket_id: int) -> bool:
    with runtime.db.transaction() as session:
        return runtime.engine.customer_replied(
            session,
            session.get_one(Ticket, ticket_id),
            now=utcnow(),
            message_id="<r1@acme.example>",
        )


def test_automatic_transition_runs_after_submission(wf: Runtime) -> None:
    ticket_id = submit(wf, "review", reason="a")
    assert (ticket(wf, ticket_id).state, ticket(wf, ticket_id).waiting_on) == (
        "in_review",
        WaitingOn.STAFF,
    )
    [transition] = events(wf, ticket_id, "transition")
    assert transition.payload["trigger"] == "automatic" and transition.actor == SYSTEM


def test_manual_transition_checks_state_role_and_fields(wf: Runtime) -> None:
    ticket_id = submit(wf, "review", reason="a")
    with pytest.raises(NotAllowed, match="needs the admin role"):
        manual(wf, ticket_id, "approve", comment="fine")
    with pytest.raises(ValidationError) as missing:
        manual(wf, ticket_id, "ask_customer", days="40")
    assert missing.value.errors == {
        "question": ["Question is required"],
        "days": ["Days must be at most 30"],
    }
    with pytest.raises(NotFound, match="no staff action 'start_review'"):
        manual(wf, ticket_id, "start_review")
    manual(wf, ticket_id, "ask_customer", question="Which server?", days="3", ignored="x")
    current = ticket(wf, ticket_id)
    assert (current.state, current.waiting_on) == ("waiting_customer", WaitingOn.CUSTOMER)
    last = events(wf, ticket_id, "transition")[-1]
    assert (last.actor, last.payload["fields"], last.payload["trigger"]) == (
        Actor.staff("ann@team.example"),
        {"question": "Which server?", "days": 3},
        "manual",
    )
    with pytest.raises(Conflict, match="applies in state 'in_review'"):
        manual(wf, ticket_id, "reject", reason="incomplete")


def test_admin_may_take_agent_actions_and_final_emails_are_queued(wf: Runtime) -> None:
    ticket_id = submit(wf, "review", reason="a")
    manual(wf, ticket_id, "reject", role="admin", reason="ineligible")
    current = ticket(wf, ticket_id)
    assert (current.state, current.outcome, current.outcome_reason) == (
        "rejected",
        "rejected",
        "The request was reviewed and declined.",
    )
    assert [e.payload["template"] for e in events(wf, ticket_id, "email_queued")] == [
        "request_refused"
    ]


def test_customer_reply_moves_only_from_a_state_that_expects_one(wf: Runtime) -> None:
    ticket_id = submit(wf, "review", reason="a")
    assert replied(wf, ticket_id) is False
    manual(wf, ticket_id, "ask_customer", question="Which server?")
    assert replied(wf, ticket_id) is True
    assert ticket(wf, ticket_id).state == "in_review"
    last = events(wf, ticket_id, "transition")[-1]
    assert (last.payload["trigger"], last.payload["fields"], last.actor) == (
        "customer_reply",
        {"message_id": "<r1@acme.example>"},
        Actor.customer("ops@acme.example"),
    )


def test_timer_after_a_duration_is_armed_on_entry_cancelled_on_exit_and_fired_by_the_sweeper(
    wf: Runtime,
) -> None:
    ticket_id = submit(wf, "review", reason="a")
    before = utcnow()
    manual(wf, ticket_id, "ask_customer", question="Which server?")
    armed = {t.transition: t for t in timers(wf, ticket_id)}
    assert armed["grace_over"].cancelled_at is not None
    no_answer = armed["no_answer"]
    assert no_answer.pending and dt.timedelta(days=7) <= no_answer.due_at - before < dt.timedelta(
        days=7, minutes=1
    )
    assert sweep(wf.db, wf.jobs, utcnow()).timers == 0
    with wf.db.transaction() as session:
        session.execute(
            update(WorkflowTimer)
            .where(WorkflowTimer.id == no_answer.id)
            .values(due_at=utcnow() - dt.timedelta(seconds=1))
        )
    assert sweep(wf.db, wf.jobs, utcnow()).timers == 1
    current = ticket(wf, ticket_id)
    assert (current.state, current.outcome) == ("expired", "cancelled")
    last = events(wf, ticket_id, "transition")[-1]
    assert (last.actor, last.payload["trigger"], last.payload["transition"]) == (
        TIMER,
        "timer",
        "no_answer",
    )
    assert sweep(wf.db, wf.jobs, utcnow()).timers == 0


def test_timer_at_an_instant_computed_from_the_form_and_its_guard(wf: Runtime) -> None:
    held = submit(wf, "review", reason="b", grace_until="2031-05-31")
    skipped = submit(wf, "review", token="SRV-other-token", reason="a", grace_until="2031-05-31")
    due = dt.datetime(2031, 5, 31, tzinfo=dt.UTC)
    for ticket_id in (held, skipped):
        [timer] = timers(wf, ticket_id)
        assert (timer.transition, timer.due_at) == ("grace_over", due)
        wf.tasks.fire_timer(timer.id, now=due - dt.timedelta(seconds=1))
        assert timers(wf, ticket_id)[0].pending
        wf.tasks.fire_timer(timer.id, now=due)
    assert ticket(wf, held).state == "expired"
    assert ticket(wf, skipped).state == "in_review"
    assert "does not hold" in events(wf, skipped, "timer_skipped")[0].summary


def test_re_entering_a_state_revives_its_instant_timer_instead_of_doubling_it(wf: Runtime) -> None:
    ticket_id = submit(wf, "review", reason="b", grace_until="2031-05-31")
    manual(wf, ticket_id, "ask_customer", question="Which server?")
    assert replied(wf, ticket_id) is True
    grace = [t for t in timers(wf, ticket_id) if t.transition == "grace_over"]
    assert len(grace) == 1 and grace[0].pending


def test_with_redis_a_new_timer_is_also_scheduled_in_rq_for_its_due_time(
    make_wf_runtime, redis_url: str
) -> None:
    from rq import Queue

    runtime = make_wf_runtime(redis_url=redis_url)
    ticket_id = submit(runtime, "review", reason="b", grace_until="2031-05-31")
    runtime.tasks.advance_ticket(ticket_id)
    [timer] = timers(runtime, ticket_id)
    queue: Queue = runtime.jobs.queue
    registry = queue.scheduled_job_registry
    assert registry.get_job_ids() == [f"fire_timer-{timer.id}"]
    assert registry.get_scheduled_time(f"fire_timer-{timer.id}") == dt.datetime(
        2031, 5, 31, tzinfo=dt.UTC
    )


def test_notes_of_a_states_entry_actions_reach_the_timeline(make_wf_runtime, workflows_dir) -> None:
    (workflows_dir / "entry.yaml").write_text(
        "name: entry\nform:\n  token: required\ninitial: received\nstates:\n  received: {}\n"
        "  active:\n    outcome: completed\n    actions:\n      - apply_demo_bundle: {days: 30}\n"
        "transitions:\n  - {name: activate, from: received, to: active}\n"
    )
    runtime = make_wf_runtime()
    ticket_id = submit(runtime, "entry")
    [transition] = events(runtime, ticket_id, "transition")
    assert [n["summary"].split(";")[0] for n in transition.payload["notes"]] == [
        "Demo bundle applied to SRV-7f3a9c2e51"
    ]
