"""The request types staff decide end to end: contract (R13), grace (R14 a/b/c), general, key
(R15) and feature (R16), with the customer's replies and the server's sync."""

from __future__ import annotations

import io

import pytest

from tests.foundation.helpers import text_part
from tests.requests.portal import Portal, at
from tests.requests.test_modify import active_license
from ticketbridge.errors import Conflict
from ticketbridge.licenses.keys import verify_license_key


def test_r13_contract_change_waits_for_staff_then_applies(portal: Portal) -> None:
    active_license(portal)
    ticket = portal.file(
        "contract",
        changes=["support_plan", "billing_frequency", "white_label"],
        new_support_plan="silver",
        new_billing_frequency="annual",
        new_white_label="yes",
    )
    assert portal.state(ticket) == ("verifying", None)
    assert portal.license().support_plan == "platinum"
    [received] = portal.new_emails()
    assert "verifies the change" in text_part(received)
    portal.act(ticket, "apply")
    assert portal.state(ticket) == ("applied", "completed")
    license = portal.license()
    assert (license.support_plan, license.billing_frequency) == ("silver", "annual")
    assert portal.entitlements()["white_label"] == 1
    [applied] = portal.new_emails()
    body = text_part(applied)
    assert "Support plan: Platinum → Silver" in body
    assert "Billing frequency: Monthly → Annual" in body
    assert "White label (customization): off → on" in body


def test_r13_contract_change_refused_by_staff(portal: Portal) -> None:
    active_license(portal)
    ticket = portal.file("contract", changes=["license_plan"], new_plan="voice")
    portal.new_emails()
    portal.act(ticket, "refuse", reason="A plan change needs your account manager's offer.")
    assert portal.state(ticket) == ("refused", "rejected")
    assert portal.license().plan == "omnichannel"
    [refusal] = portal.new_emails()
    assert "Reason: A plan change needs your account manager's offer." in text_part(refusal)


def test_r4_r14a_an_expired_trial_comes_back_after_a_question_and_the_answer(
    portal: Portal,
) -> None:
    portal.file("demo")
    portal.run_timers_until(at("2026-12-03 09:00"))
    assert portal.license().state.value == "expired"
    portal.new_emails()
    ticket = portal.file(
        "grace",
        grace_reason="expired_trial",
        comments="We need two more weeks to finish the pilot.",
        log_file=(io.BytesIO(b"license: expired\n"), "license.log"),
    )
    assert portal.state(ticket) == ("review", None)
    portal.act(ticket, "ask_customer", question="Which features does the pilot still need?")
    assert portal.state(ticket) == ("waiting_customer", None)
    portal.reply(ticket, "The AI assistants, mainly.")
    assert portal.state(ticket) == ("review", None)
    portal.act(ticket, "reactivate")
    assert portal.state(ticket) == ("reactivated", "completed")
    license = portal.license()
    assert license.state.value == "trial" and license.expires_at == at("2027-01-02 09:00")
    subjects = portal.subjects()
    assert subjects[0].endswith("We received your request LIC-000002")
    assert "A question about your request" in subjects[1]
    assert "is applied" in subjects[2]


def test_r14b_a_deactivated_license_is_reactivated_and_billed_again(portal: Portal) -> None:
    active_license(portal)
    portal.file("deactivate", reason="cost")
    portal.run_timers_until(at("2026-12-01 00:00"))
    assert portal.license().state.value == "deactivated"
    portal.move_to(at("2026-12-05 10:00"))
    ticket = portal.file("grace", grace_reason="license_deactivated", grace_expires_on="2026-12-10")
    portal.act(ticket, "reactivate")
    license = portal.license()
    assert (license.state.value, license.billing_ends_on) == ("active", None)
    assert ("agents", "advance", 10, "300.00") in portal.invoice("2026-12")


def test_r14c_a_new_token_takes_the_license_and_its_history(portal: Portal) -> None:
    active_license(portal)
    ticket = portal.file(
        "grace",
        grace_reason="new_token_detected",
        new_token="SRV-ACME-0002",
        grace_expires_on="2026-11-20",
    )
    with pytest.raises(Conflict, match="not possible now"):
        portal.act(ticket, "reactivate")
    portal.act(ticket, "move_and_reactivate")
    assert portal.state(ticket) == ("reactivated", "completed")
    moved = portal.license("SRV-ACME-0002")
    assert moved.state.value == "active" and moved.plan == "omnichannel"
    assert portal.entitlements("SRV-ACME-0002")["agents"] == 10
    assert ("agents", "advance", 10, "300.00") in portal.invoice("2026-11", "SRV-ACME-0002")


def test_general_request_staff_ask_the_customer_replies_then_staff_answer(
    portal: Portal,
) -> None:
    ticket = portal.file("general", token=None, description="Can we move our server to AWS?")
    assert portal.state(ticket) == ("received", None)
    [receipt] = portal.new_emails()  # R19: the web request's receipt, with its ticket link
    assert receipt["Subject"].startswith("[LIC-")
    portal.act(ticket, "ask_customer", question="Which region?")
    [question] = portal.new_emails()
    assert "Which region?" in text_part(question)
    portal.reply(ticket, "eu-west-1")
    assert portal.state(ticket) == ("received", None)
    portal.act(ticket, "answer", answer="Yes: send a Grace period request with reason c.")
    assert portal.state(ticket) == ("resolved", "completed")
    [answer] = portal.new_emails()
    assert "Yes: send a Grace period request with reason c." in text_part(answer)


def test_r15_key_request_staff_register_the_key_is_emailed_and_the_server_syncs(
    portal: Portal,
) -> None:
    portal.file("demo")
    portal.new_emails()
    ticket = portal.file("key", client_key="CK-7f3a9c2e", hash_key="HK-51b0d4")
    assert portal.state(ticket) == ("verifying", None)
    portal.act(ticket, "register_server")
    assert portal.state(ticket) == ("key_issued", None)
    received, issued = portal.new_emails()
    body = text_part(issued)
    key = body.split("and save:\n\n", 1)[1].split("\n", 1)[0]
    payload = verify_license_key(portal.runtime.keyring, key)
    assert (payload.token, payload.client_key, payload.hash_key) == (
        "SRV-ACME-0001",
        "CK-7f3a9c2e",
        "HK-51b0d4",
    )
    assert "Settings → Edit License" in body and "sync secret" in body
    assert "tbs_" in body

    portal.move_to(at("2026-11-02 11:00"))
    portal.sync("SRV-ACME-0001")
    assert portal.state(ticket) == ("activated", "completed")
    assert "Applied on your server: SRV-ACME-0001 fetched this change on 2026-11-02 11:00" in (
        portal.page(ticket)
    )
    [synced] = portal.new_emails()
    assert "picked up the change" in text_part(synced)


def test_r15_a_key_for_a_server_that_never_syncs_goes_back_to_staff(portal: Portal) -> None:
    portal.file("demo")
    ticket = portal.file("key", client_key="CK-7f3a9c2e", hash_key="HK-51b0d4")
    portal.act(ticket, "register_server")
    portal.run_timers_until(at("2026-11-05 09:00"))
    current = portal.ticket(ticket)
    assert (current.state, current.waiting_on.value) == ("sync_overdue", "staff")
    portal.sync("SRV-ACME-0001")
    assert portal.state(ticket) == ("activated", "completed")


def test_r16_feature_update_reaches_the_server_without_a_new_key(portal: Portal) -> None:
    active_license(portal)
    key_ticket = portal.file("key", client_key="CK-1", hash_key="HK-1")
    portal.act(key_ticket, "register_server")
    revision = portal.sync("SRV-ACME-0001")
    key = portal.license().license_key
    portal.new_emails()

    ticket = portal.file("feature", applications=["crm"], webdialer_capacity="20")
    assert portal.state(ticket) == ("review", None)
    portal.act(ticket, "amend", applications=["crm", "auto_dialer"])
    assert portal.state(ticket) == ("applied", None)
    entitlements = portal.entitlements()
    assert (entitlements["crm"], entitlements["auto_dialer"]) == (1, 1)
    assert entitlements["webdialer_capacity"] == 20
    assert portal.license().license_key == key
    assert portal.sync("SRV-ACME-0001") > revision
    assert portal.state(ticket) == ("synced", "completed")
    received, applied, synced = portal.subjects()
    assert "is applied" in applied and "Applied on your server" in synced


def test_r16_a_feature_change_the_server_never_fetches_tells_staff(portal: Portal) -> None:
    active_license(portal)
    ticket = portal.file("feature", applications=["helpdesk"])
    portal.act(ticket, "apply")
    portal.run_timers_until(at("2026-11-06 09:00"))
    assert portal.ticket(ticket).waiting_on.value == "staff"
    portal.act(ticket, "close_unsynced")
    assert portal.state(ticket) == ("synced", "completed")
