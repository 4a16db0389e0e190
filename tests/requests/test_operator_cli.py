"""Operators before the staff app: `ticketbridge tickets show` and `tickets act`, through the
engine and the transition's field validator, as the staff pages will be."""

from __future__ import annotations

from click.testing import CliRunner, Result
from sqlalchemy import select

from tests.requests.portal import Portal
from tests.requests.test_new_activation import PLAN
from ticketbridge.actors import Actor
from ticketbridge.cli import main
from ticketbridge.cli.context import State
from ticketbridge.staff.models import StaffRole, StaffUser


def cli(portal: Portal, *args: str) -> Result:
    state = State()
    state._settings, state._runtime = portal.runtime.settings, portal.runtime
    return CliRunner().invoke(main, list(args), obj=state)


def add_staff(portal: Portal, email: str, role: StaffRole) -> None:
    with portal.runtime.db.transaction() as session:
        session.add(StaffUser(email=email, name="Ana", role=role, password_hash="-"))


def test_show_lists_the_state_and_the_actions_open_now_with_their_fields(portal: Portal) -> None:
    ticket = portal.file("plan", **PLAN)
    result = cli(portal, "tickets", "show", "LIC-000001")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "LIC-000001\tplan\tadministrative_check (waiting on staff)" in out
    assert "license SRV-ACME-0001: active" in out
    assert "    apply_options: “Checked — apply as requested” (agent)" in out
    assert "--set reason: textarea, required, at most 2000 characters" in out
    assert "--set plugins: multichoice, optional, one or more of data_retention, botify" in out
    assert portal.state(ticket) == ("administrative_check", None)


def test_act_applies_a_staff_action_and_reports_field_errors(portal: Portal) -> None:
    ticket = portal.file("plan", **PLAN)
    add_staff(portal, "ana@license.example", StaffRole.AGENT)
    missing = cli(
        portal, "tickets", "act", "LIC-000001", "refuse_options", "--as", "ana@license.example"
    )
    assert missing.exit_code == 1 and "Reason for the customer is required" in missing.output
    unknown = cli(portal, "tickets", "act", "LIC-000001", "apply_options", "--as", "bob@x.example")
    assert unknown.exit_code == 1 and "no active staff account 'bob@x.example'" in unknown.output
    result = cli(
        portal,
        "tickets",
        "act",
        "LIC-000001",
        "amend_options",
        "--set",
        "plugins=botify",
        "--set",
        "plugins=queue_manager",
        "--set",
        "support_plan=silver",
        "--as",
        "ana@license.example",
    )
    assert result.exit_code == 0, result.output
    assert "LIC-000001: Checked — apply with changes → completed" in result.output
    entitlements = portal.entitlements()
    assert entitlements["botify"] == entitlements["queue_manager"] == 1
    assert "schedulease" not in entitlements
    with portal.runtime.db.transaction() as session:
        ana = session.scalars(select(StaffUser.id).where(StaffUser.email == "ana@license.example"))
        ana_id = ana.one()
    assert portal.events(ticket, "transition")[-1].actor == Actor.staff_account(ana_id)


def test_show_names_a_missing_ticket_and_a_malformed_reference(portal: Portal) -> None:
    for reference in ("LIC-000042", "ticket-7"):
        result = cli(portal, "tickets", "show", reference)
        assert result.exit_code == 1
        assert f"no ticket {reference!r}; a reference looks like LIC-000123" in result.output
