"""Modify existing license end to end: add (R10, R11, R9), remove (R10, R11's cut-off on the
20th) and deactivate (R12), with the ledger and the invoice lines each one leaves."""

from __future__ import annotations

from tests.foundation.helpers import text_part
from tests.requests.portal import Portal, at
from tests.requests.test_new_activation import PLAN

BASIC_PLAN = {**PLAN, "add_ons": [], "plugins": [], "white_label": "no"}


def active_license(portal: Portal) -> None:
    """A paid license from 2 November: 10 agents, 3 users, 4 telephones, 2 mobile agents."""
    ticket = portal.file("plan", **BASIC_PLAN)
    portal.act(ticket, "apply_options")
    portal.new_emails()


def test_r10_r11_r9_add_applies_new_totals_at_once_billed_pro_rata_with_plugin_links(
    portal: Portal,
) -> None:
    active_license(portal)
    portal.move_to(at("2026-11-11 10:00"))
    ticket = portal.file(
        "add", reason="more_agents", agents="15", pbx_extensions="6", plugins=["queue_manager"]
    )
    assert portal.state(ticket) == ("applied", "completed")
    assert portal.ledger(ticket) == [
        ("agents", 10, 15, at("2026-11-11 10:00").date()),
        ("queue_manager", 0, 1, at("2026-11-11 10:00").date()),
        ("telephones", 4, 6, at("2026-11-11 10:00").date()),
    ]
    applied, plugins = portal.new_emails()
    assert "Queue manager\n  Download:" in text_part(plugins)
    assert "Concurrent agents: 10 → 15" in text_part(applied)
    assert "Telephones (PBX extensions): 4 → 6" in text_part(applied)
    lines = portal.invoice("2026-11")
    assert ("agents", "pro_rata", 5, "100.00") in lines  # 11–30 Nov: 20 of 30 days
    assert ("agents", "advance", 15, "450.00") in lines


def test_r10_an_add_cannot_lower_a_total_nor_a_remove_raise_one(portal: Portal) -> None:
    active_license(portal)
    page = portal.refused("add", reason="more_agents", agents="8")
    assert "An add request cannot lower agents from 10 to 8" in page
    page = portal.refused("remove", reason="fewer_agents", users="4")
    assert "A remove request cannot raise users from 3 to 4" in page
    assert portal.entitlements()["agents"] == 10
    assert portal.ticket_count() == 1


def test_add_remove_deactivate_and_contract_need_an_active_token(portal: Portal) -> None:
    for request_type, form in (
        ("add", {"reason": "more_agents", "agents": "6"}),
        ("remove", {"reason": "fewer_agents", "agents": "5"}),
        ("deactivate", {"reason": "cost"}),
        ("contract", {"changes": ["support_plan"], "new_support_plan": "silver"}),
    ):
        page = portal.refused(request_type, token="SRV-NEVER-ACTIVE", **form)
        assert "this request changes an active license" in page, request_type
    assert portal.ticket_count() == 0


def test_r11_a_remove_by_the_20th_applies_at_once_and_is_credited(portal: Portal) -> None:
    active_license(portal)
    portal.move_to(at("2026-11-20 23:30"))
    ticket = portal.file("remove", reason="fewer_agents", agents="6", users="1")
    assert portal.state(ticket) == ("applied", "completed")
    assert portal.entitlements()["agents"] == 6
    assert "Your license goes down at once" in portal.page(ticket)
    scheduled, applied = portal.new_emails()
    assert "Concurrent agents: 10 → 6" in text_part(applied)
    lines = portal.invoice("2026-11")
    assert ("agents", "pro_rata", -4, "-44.00") in lines  # 20–30 Nov: 11 of 30 days
    assert ("agents", "advance", 6, "180.00") in lines


def test_r11_a_remove_after_the_20th_waits_for_the_1st_of_next_month(portal: Portal) -> None:
    active_license(portal)
    portal.move_to(at("2026-11-21 08:00"))
    ticket = portal.file("remove", reason="fewer_agents", agents="6", plugins=[])
    assert portal.state(ticket) == ("scheduled", None)
    assert portal.entitlements()["agents"] == 10
    page = portal.page(ticket)
    assert "Your license goes down on 1 December 2026: Concurrent agents from 10 to 6." in page
    [scheduled] = portal.new_emails()
    assert "on 1 December 2026" in text_part(scheduled)

    portal.run_timers_until(at("2026-11-30 23:59"))
    assert portal.state(ticket) == ("scheduled", None)
    portal.run_timers_until(at("2026-12-01 00:00"))
    assert portal.state(ticket) == ("applied", "completed")
    assert portal.ledger(ticket) == [("agents", 10, 6, at("2026-12-01 00:00").date())]
    [applied] = portal.new_emails()
    assert "Concurrent agents: 10 → 6" in text_part(applied)
    november = portal.invoice("2026-11")
    assert ("agents", "advance", 6, "180.00") in november
    assert not [line for line in november if line[1] == "pro_rata" and line[2] < 0]


def test_r12_deactivation_at_the_end_of_the_billing_period(portal: Portal) -> None:
    active_license(portal)
    portal.move_to(at("2026-11-12 10:00"))
    ticket = portal.file("deactivate", reason="project_ended")
    assert portal.state(ticket) == ("scheduled", None)
    assert "is deactivated on 1 December 2026" in portal.page(ticket)
    [scheduled] = portal.new_emails()
    assert "deactivated on 1 December 2026" in text_part(scheduled)
    assert not [line for line in portal.invoice("2026-11") if line[1] == "advance"]

    portal.run_timers_until(at("2026-12-01 00:00"))
    assert portal.state(ticket) == ("deactivated", "completed")
    assert portal.license().state.value == "deactivated"
    [done] = portal.new_emails()
    assert "License: active → deactivated" in text_part(done)
