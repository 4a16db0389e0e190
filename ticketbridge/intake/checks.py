"""Cross-checks of a valid form against the license registry, run before anything is created.

A workflow's form names the checks it needs (`checks: [token_active, totals_raised]`); the
loader refuses a name not registered here, as it does for steps. Each check reads the form and
the license its token names and raises RuleViolation in the customer's words; the rules
themselves are the pure ones of `licenses.rules`, so the form, the steps and the ledger agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ticketbridge.errors import RuleViolation, ValidationError
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.models import License, LicenseState
from ticketbridge.licenses.rules import (
    LIST_FIELD_OF_KIND,
    Entitlements,
    check_add,
    check_entitlements,
    check_remove,
    requested_entitlements,
)
from ticketbridge.licenses.sync import find_license

STATE_WORDS = {
    LicenseState.NOT_ACTIVE: "not active yet",
    LicenseState.TRIAL: "running a 30-day demo",
    LicenseState.ACTIVE: "active",
    LicenseState.DEACTIVATED: "deactivated",
    LicenseState.EXPIRED: "expired",
    LicenseState.GRACE: "in its grace period",
}


@dataclass(frozen=True)
class CheckInput:
    catalogue: Catalogue
    form: Mapping[str, Any]
    license: License | None
    """The license recorded for the form's token, if any."""


CheckFunction = Callable[[CheckInput], None]


class CheckRegistry:
    def __init__(self) -> None:
        self._checks: dict[str, CheckFunction] = {}

    def register(self, name: str) -> Callable[[CheckFunction], CheckFunction]:
        def decorate(function: CheckFunction) -> CheckFunction:
            if name in self._checks:
                raise ValueError(f"form check {name!r} is registered twice")
            self._checks[name] = function
            return function

        return decorate

    def names(self) -> Iterable[str]:
        return self._checks.keys()

    def run(
        self, names: Iterable[str], session: Session, catalogue: Catalogue, form: Mapping[str, Any]
    ) -> None:
        """Run the named checks in order; ValidationError with the first refusal of each field."""
        token = form.get("token")
        request = CheckInput(catalogue, form, find_license(session, token) if token else None)
        errors: dict[str, list[str]] = {}
        for name in names:
            try:
                self._checks[name](request)
            except RuleViolation as refusal:
                field = _form_field(catalogue, form, refusal.field)
                errors.setdefault(field, [refusal.message])
        if errors:
            raise ValidationError(errors)


CHECKS = CheckRegistry()


def _state(license: License | None) -> LicenseState:
    return license.state if license is not None else LicenseState.NOT_ACTIVE


@CHECKS.register("token_can_activate")
def token_can_activate(request: CheckInput) -> None:
    """R2: a new plan only for a token not active yet; a demo's token may convert to a plan."""
    state = _state(request.license)
    if state not in (LicenseState.NOT_ACTIVE, LicenseState.TRIAL):
        raise RuleViolation(
            "R2",
            f"This server token's license is {STATE_WORDS[state]}: a new activation is only "
            "possible while the token is not active yet. To change the license use “Modify "
            "existing license”; to bring it back use “Grace period / re-activate license”.",
            field="token",
        )


@CHECKS.register("token_active")
def token_active(request: CheckInput) -> None:
    """Changes (add, remove, deactivate, contract, features) apply to an active license."""
    state = _state(request.license)
    if state != LicenseState.ACTIVE:
        raise RuleViolation(
            "R2",
            f"This server token's license is {STATE_WORDS[state]}, and this request changes an "
            "active license. Check the token under Settings → License; a new server needs "
            "“Request new activation” first, an expired or deactivated one “Grace period / "
            "re-activate license”.",
            field="token",
        )


@CHECKS.register("token_known")
def token_known(request: CheckInput) -> None:
    """R14: a re-activation names the token of a license that was once activated."""
    if _state(request.license) == LicenseState.NOT_ACTIVE:
        raise RuleViolation(
            "R14",
            "We have no license for this server token. Give the old token of the license to "
            "re-activate: it is on the earlier ticket messages, or under Settings → License.",
            field="token",
        )


def _current(request: CheckInput) -> dict[str, int]:
    return dict(request.license.entitlements) if request.license is not None else {}


def _check_totals(
    request: CheckInput, direction: Callable[[Entitlements, Entitlements], None], *, turn_off: bool
) -> None:
    current = _current(request)
    after = requested_entitlements(request.catalogue, request.form, current, turn_off=turn_off)
    direction(current, after)
    check_entitlements(request.catalogue, after, paid=True)


@CHECKS.register("totals_raised")
def totals_raised(request: CheckInput) -> None:
    """R10: an add gives new totals, none below the current one; R7 and R8 hold after it."""
    _check_totals(request, check_add, turn_off=False)


@CHECKS.register("totals_lowered")
def totals_lowered(request: CheckInput) -> None:
    """R10: a removal gives new totals, none above the current one; R7 and R8 hold after it
    (5 agents at least; AI Assistants stay while AI Agent Assistants do)."""
    _check_totals(request, check_remove, turn_off=True)


@CHECKS.register("new_plan_rules")
def new_plan_rules(request: CheckInput) -> None:
    """R7 and R8 on a new plan: at least 5 concurrent agents, AI Agent Assistants only with AI
    Assistants (the included admin user is always there)."""
    catalogue = request.catalogue
    included = {item.key: item.included for item in catalogue.items.values() if item.included}
    after = requested_entitlements(catalogue, request.form, included, turn_off=False)
    check_entitlements(catalogue, after, paid=True)


def _form_field(catalogue: Catalogue, form: Mapping[str, Any], item: str | None) -> str:
    """The form field a refusal about catalogue item `item` belongs at: the item's own total,
    else the list of its kind (an add-on's refusal at the add-ons), else the token (the license
    as a whole)."""
    if item is None or not catalogue.is_known(item):
        return "token"
    own = next((name for name in form if catalogue.canonical_key(name) == item), None)
    listed = LIST_FIELD_OF_KIND.get(catalogue.item(item).kind)
    return own or (listed if listed is not None and listed in form else "token")
