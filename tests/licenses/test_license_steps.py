"""The license steps workflows call: set_license_state (paid start), issue_license_key (R15),
move_to_new_token (R14c)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.licenses.helpers import add_license, add_ticket
from ticketbridge.actors import Actor
from ticketbridge.licenses.keys import verify_license_key
from ticketbridge.licenses.models import License, LicenseState, LicenseSyncWait, TokenMove
from ticketbridge.licenses.revisions import mark_changed
from ticketbridge.licenses.sync import derive_sync_secret
from ticketbridge.runtime import Runtime
from ticketbridge.steps.registry import StepContext

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def context_for(session, runtime: Runtime, license: License, **form: str) -> StepContext:
    ticket = add_ticket(session, license, request_type="key", form=form)
    return StepContext(
        session=session,
        ticket=ticket,
        now=NOW,
        actor=Actor.staff("ana"),
        resources=runtime.engine.resources,
    )


def test_r15_steps_activate_then_issue_the_key_from_the_form(runtime: Runtime) -> None:
    steps = runtime.steps
    with runtime.db.transaction() as session:
        license = add_license(
            session,
            runtime,
            "SRV-S",
            at=NOW,
            state=LicenseState.TRIAL,
            entitlements=runtime.catalogue.demo_bundle(),
        )
        context = context_for(session, runtime, license, client_key="CK-9", hash_key="HK-9")
        steps.run("set_license_state", context, {"state": "active"})
        steps.run("issue_license_key", context, {})
        assert license.state is LicenseState.ACTIVE and license.paid_since == NOW
        assert verify_license_key(runtime.keyring, license.license_key).client_key == "CK-9"
        summaries = " ".join(summary for summary, _ in context.notes)
        assert "trial -> active" in summaries and "License key issued" in summaries
        assert derive_sync_secret(runtime.settings.secret_key, license) not in repr(context.notes)


def test_r14c_step_moves_to_the_new_token_from_the_grace_form(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-OLD", at=NOW)
        context = context_for(session, runtime, license, new_token="SRV-NEW")
        runtime.steps.run("move_to_new_token", context, {})
        assert license.token == "SRV-NEW"
        assert session.scalars(select(TokenMove.old_token)).one() == "SRV-OLD"


def test_a_step_that_changes_plan_and_entitlements_marks_its_license_changed_once(
    runtime: Runtime, monkeypatch
) -> None:
    """One revision and one wait look-up per step, however many of the license's parts it sets."""
    marked: list[int] = []

    def counted(session, license: License, *, ticket_id: int | None, now: dt.datetime) -> int:
        marked.append(license.id)
        return mark_changed(session, license, ticket_id=ticket_id, now=now)

    monkeypatch.setattr("ticketbridge.steps.changes.mark_changed", counted)
    with runtime.db.transaction() as session:
        license = add_license(
            session,
            runtime,
            "SRV-P",
            at=NOW,
            state=LicenseState.TRIAL,
            entitlements=runtime.catalogue.demo_bundle(),
        )
        context = context_for(session, runtime, license, plan="voice", agents="7")
        runtime.steps.run("apply_plan", context, {})
        assert (license.plan, license.entitlements["agents"]) == ("voice", 7)
        assert marked == [license.id]
        wait = session.scalars(select(LicenseSyncWait)).one()
        assert (wait.ticket_id, wait.revision) == (context.ticket.id, license.revision)
