"""Request new activation end to end: the 30-day demo (R2, R3, R4) and a license plan (R5–R9)."""

from __future__ import annotations

from tests.foundation.helpers import text_part
from tests.requests.portal import Portal, at

PLAN = {
    "plan": "omnichannel",
    "agents": "10",
    "users": "3",
    "telephones": "4",
    "mobile_agents": "2",
    "billing_frequency": "monthly",
    "support_plan": "platinum",
    "white_label": "yes",
    "add_ons": ["ai_assistants", "quality_analysis"],
    "plugins": ["botify", "schedulease"],
}


def test_r3_r4_demo_activates_reminds_a_week_before_and_expires(portal: Portal) -> None:
    ticket = portal.file("demo")
    assert portal.state(ticket) == ("demo_active", "completed")
    assert portal.entitlements()["agents"] == 3 and portal.license().state.value == "trial"
    assert portal.ledger(ticket)[0][3].isoformat() == "2026-11-02"
    [activated] = portal.subjects()
    assert activated == "[LIC-000001] Your 30-day XCALLY demo is active (SRV-ACME-0001)"

    portal.run_timers_until(at("2026-11-25 09:00"))
    assert portal.state(ticket) == ("demo_ending", "completed")
    [reminder] = portal.new_emails()
    assert "ends on 2026-12-02" in reminder["Subject"]
    assert "request a license plan now" in text_part(reminder)

    portal.run_timers_until(at("2026-12-02 09:00"))
    assert portal.state(ticket) == ("expired", "completed")
    assert portal.license().state.value == "expired"
    [expired] = portal.new_emails()
    assert "Grace period / re-activate license" in text_part(expired)
    assert "Expired license (trial mode)" in text_part(expired)


def test_r2_a_second_demo_is_refused_in_plain_words(portal: Portal) -> None:
    portal.file("demo")
    portal.new_emails()
    second = portal.file("demo")
    assert portal.state(second) == ("refused", "rejected")
    [refusal] = portal.new_emails()
    body = text_part(refusal)
    assert "each\ntoken gets one demo" in body.replace("each token", "each\ntoken")
    assert "(R" not in body


def test_r2_a_trial_converted_into_a_plan_is_not_expired(portal: Portal) -> None:
    demo = portal.file("demo")
    portal.move_to(at("2026-11-20 10:00"))
    plan = portal.file("plan", **PLAN)
    assert portal.state(plan) == ("administrative_check", None)
    portal.run_timers_until(at("2026-12-03 09:00"))
    assert portal.state(demo) == ("converted", "completed")
    assert portal.license().state.value == "active"
    assert not portal.events(demo, "timer_skipped")


def test_r5_r6_r9_plan_applies_at_once_then_staff_apply_options_and_plugins_get_links(
    portal: Portal,
) -> None:
    ticket = portal.file("plan", **PLAN)
    assert portal.state(ticket) == ("administrative_check", None)
    assert portal.entitlements() == {
        "admins": 1,
        "agents": 10,
        "mobile_agents": 2,
        "telephones": 4,
        "users": 3,
        "webrtc": 1,
        "windows_phonebar": 1,
    }
    license = portal.license()
    assert (license.state.value, license.plan, license.paid_since) == (
        "active",
        "omnichannel",
        at("2026-11-02 09:00"),
    )
    [waiting] = portal.new_emails()
    body = text_part(waiting)
    assert "Concurrent agents: 0 → 10" in body
    assert "Waiting for our administrative check" in body
    assert "- Support package: Platinum\n" in body and "- Plugins: Botify, Schedulease\n" in body

    portal.move_to(at("2026-11-03 14:00"))
    portal.act(ticket, "apply_options")
    assert portal.state(ticket) == ("completed", "completed")
    entitlements = portal.entitlements()
    for item in ("ai_assistants", "quality_analysis", "botify", "schedulease", "white_label"):
        assert entitlements[item] == 1
    assert portal.license().support_plan == "platinum"
    applied, plugins = portal.new_emails()
    assert "Plugin downloads" in plugins["Subject"]
    links = text_part(plugins)
    assert "Botify\n  Download: https://downloads.example.com/xcally/plugins/botify.zip" in links
    assert "Documentation: https://docs.example.com/xcally/plugins/schedulease" in links
    assert "Queue manager" not in links
    assert "Support plan: none → Platinum" in text_part(applied)

    lines = portal.invoice("2026-11")
    assert ("agents", "pro_rata", 10, "290.00") in lines  # 29 of 30 days
    assert ("agents", "advance", 10, "300.00") in lines
    assert ("botify", "pro_rata", 1, "56.00") in lines  # from 3 November: 28 of 30 days
    assert ("admins", "advance", 0, "0.00") not in lines


def test_r6_staff_amend_the_options_and_r8_is_enforced(portal: Portal) -> None:
    ticket = portal.file("plan", **PLAN)
    portal.new_emails()
    try:
        portal.act(ticket, "amend_options", add_ons=["ai_agent_assistants"], plugins=[])
    except Exception as exc:  # noqa: BLE001 - the rule's message is what staff read
        assert "AI Agent Assistants can only be enabled together with AI Assistants" in str(exc)
    else:
        raise AssertionError("R8 was not enforced")
    assert portal.state(ticket) == ("administrative_check", None)
    portal.act(
        ticket,
        "amend_options",
        add_ons=["ai_assistants"],
        plugins=[],
        billing_frequency="annual",
        support_plan="silver",
    )
    license = portal.license()
    assert (license.billing_frequency, license.support_plan) == ("annual", "silver")
    assert "botify" not in portal.entitlements()
    assert [e["Subject"] for e in portal.new_emails()] == [
        "[LIC-000001] Your request LIC-000001 is applied (SRV-ACME-0001)"
    ]


def test_r6_staff_refuse_the_options_with_a_reason_the_plan_stays(portal: Portal) -> None:
    ticket = portal.file("plan", **PLAN)
    portal.new_emails()
    portal.act(ticket, "refuse_options", reason="White label needs a signed addendum first.")
    assert portal.state(ticket) == ("options_refused", "rejected")
    assert portal.license().state.value == "active"
    [refusal] = portal.new_emails()
    assert "Reason: White label needs a signed addendum first." in text_part(refusal)


def test_r2_a_plan_for_an_active_token_is_refused(portal: Portal) -> None:
    portal.file("plan", **PLAN)
    page = portal.refused("plan", **PLAN)
    assert "a new activation is only possible while the token is not active yet" in page
    assert portal.ticket_count() == 1
