"""R7, R8 and R10 on entitlement snapshots."""

from __future__ import annotations

import pytest

from ticketbridge.errors import RuleViolation
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.rules import check_add, check_entitlements, check_remove

PAID = {
    "agents": 5,
    "admins": 1,
    "users": 2,
    "telephones": 5,
    "mobile_agents": 1,
    "webrtc": 1,
    "windows_phonebar": 1,
}


def violation(catalogue: Catalogue, entitlements: dict[str, int], *, paid: bool) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        check_entitlements(catalogue, entitlements, paid=paid)
    return caught.value


def test_r7_paid_plan_needs_five_agents(catalogue: Catalogue) -> None:
    check_entitlements(catalogue, PAID, paid=True)
    error = violation(catalogue, {**PAID, "agents": 4}, paid=True)
    assert (error.rule, error.field) == ("R7", "agents")
    assert "Concurrent agents" in error.message and "at least 5" in error.message


def test_r7_demo_may_have_fewer_agents_than_a_paid_plan(catalogue: Catalogue) -> None:
    check_entitlements(catalogue, {**PAID, "agents": 3}, paid=False)


def test_r3_demo_bundle_obeys_the_rules(catalogue: Catalogue) -> None:
    check_entitlements(catalogue, catalogue.demo_bundle(), paid=False)


def test_r7_one_admin_is_always_included(catalogue: Catalogue) -> None:
    for paid in (True, False):
        error = violation(catalogue, {k: v for k, v in PAID.items() if k != "admins"}, paid=paid)
        assert (error.rule, error.field) == ("R7", "admins")
        assert "Admin users" in error.message
    check_entitlements(catalogue, {**PAID, "admins": 2}, paid=True)


def test_r8_ai_agent_assistants_need_ai_assistants(catalogue: Catalogue) -> None:
    error = violation(catalogue, {**PAID, "ai_agent_assistants": 1}, paid=True)
    assert (error.rule, error.field) == ("R8", "ai_agent_assistants")
    assert error.message == "AI Agent Assistants can only be enabled together with AI Assistants."
    check_entitlements(catalogue, {**PAID, "ai_assistants": 1, "ai_agent_assistants": 1}, paid=True)
    check_entitlements(catalogue, {**PAID, "ai_assistants": 1}, paid=True)
    check_entitlements(catalogue, {**PAID, "ai_assistants": 0, "ai_agent_assistants": 0}, paid=True)


@pytest.mark.parametrize("bad", [-1, 1.5, "5", True, None])
def test_r10_totals_are_whole_numbers_of_zero_or_more(catalogue: Catalogue, bad: object) -> None:
    error = violation(catalogue, {**PAID, "users": bad}, paid=True)  # type: ignore[dict-item]
    assert (error.rule, error.field) == ("R10", "users")
    assert "Additional users" in error.message


def test_r10_unknown_item_rejected(catalogue: Catalogue) -> None:
    error = violation(catalogue, {**PAID, "fax_machines": 1}, paid=True)
    assert (error.rule, error.field) == ("R10", "fax_machines")
    assert "fax machines" in error.message


def test_r10_on_off_items_are_zero_or_one(catalogue: Catalogue) -> None:
    error = violation(catalogue, {**PAID, "botify": 2}, paid=True)
    assert (error.rule, error.field) == ("R10", "botify")


def test_r10_add_cannot_lower_a_total() -> None:
    check_add({"agents": 5}, {"agents": 8, "botify": 1})
    check_add({"agents": 5}, {"agents": 5})
    with pytest.raises(RuleViolation) as caught:
        check_add({"agents": 5, "mobile_agents": 3}, {"agents": 8, "mobile_agents": 2})
    assert caught.value.rule == "R10" and caught.value.field == "mobile_agents"
    assert "cannot lower mobile agents from 3 to 2" in caught.value.message


def test_r10_add_cannot_drop_an_item_by_leaving_it_out() -> None:
    with pytest.raises(RuleViolation, match="botify from 1 to 0"):
        check_add({"agents": 5, "botify": 1}, {"agents": 6})


def test_r10_remove_cannot_raise_a_total() -> None:
    check_remove({"agents": 8, "botify": 1}, {"agents": 6, "botify": 0})
    with pytest.raises(RuleViolation) as caught:
        check_remove({"agents": 8, "users": 1}, {"agents": 6, "users": 2})
    assert caught.value.rule == "R10" and caught.value.field == "users"
    assert "cannot raise users from 1 to 2" in caught.value.message
    with pytest.raises(RuleViolation, match="data retention from 0 to 1"):
        check_remove({"agents": 8}, {"agents": 8, "data_retention": 1})
