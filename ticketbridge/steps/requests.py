"""Steps of the license request types: what each request changes on the license, and when.

Every step reads the ticket's form (or what staff amended on the transition, see
`changes.requested`), changes the license only through `licenses/` (ledger, rules, billing,
calendar) and notes its changes for the timeline and the outcome email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import marshmallow
from marshmallow import fields, validate

from ticketbridge.licenses.calendar import CalendarInputs, effective_words, instant
from ticketbridge.licenses.emails import plugins_turned_on
from ticketbridge.licenses.invoicing import schedule_deactivation
from ticketbridge.licenses.models import LicenseState
from ticketbridge.licenses.rules import (
    LIST_FIELD_OF_KIND,
    check_add,
    check_remove,
    requested_entitlements,
)
from ticketbridge.steps.changes import (
    apply_entitlements,
    change_line,
    license_changed,
    quantity_words,
    requested,
)
from ticketbridge.steps.registry import StepContext, registry
from ticketbridge.tickets.timeline import record

# Form fields whose choices are catalogue names, and the catalogue section they come from
# (`workflows check` resolves them); the steps read them by these names.
CATALOGUE_FIELDS = {
    **{name: kind.value for kind, name in LIST_FIELD_OF_KIND.items()},
    "plan": "plans",
    "new_plan": "plans",
    "support_plan": "support_plans",
    "new_support_plan": "support_plans",
    "billing_frequency": "billing_frequencies",
    "new_billing_frequency": "billing_frequencies",
}
# Steps that read every integer field of the form as the new total of a counted item (R10).
TOTALS_STEPS = frozenset(
    {"apply_plan", "apply_totals", "announce_decrease", "apply_feature_update"}
)
# Emails a step sends itself (when there is something to say), for `workflows check`.
STEP_EMAILS = {"email_plugin_instructions": "plugin_instructions"}
# R5: what a new plan gets at once, besides the counted items the customer asked for.
PLAN_FEATURES = ("webrtc", "windows_phonebar")
PLAN_COUNTS = ("agents", "users", "telephones", "mobile_agents")


def requested_snapshot(context: StepContext, *, turn_off: bool = False) -> dict[str, int]:
    """The license the request asks for: the form's totals and flag lists over the current
    entitlements — the same reading the form's checks make (R10). Staff amending restate the
    lists (an empty one: none) and the totals they fill in."""
    amended = {k: v for k, v in context.fields.items() if v is not None}
    answers = {**(context.ticket.form_data or {}), **amended}
    current = {k: int(v) for k, v in (context.license.entitlements or {}).items()}
    return requested_entitlements(context.resources.catalogue, answers, current, turn_off=turn_off)


def _note(context: StepContext, summary: str, lines: list[dict[str, str]], **payload: Any) -> None:
    context.note(summary, changes=lines, **payload)


def _announce(context: StepContext, summary: str, **payload: Any) -> None:
    """A line on the customer's ticket page, in their words ("your seats go down on 1 December"),
    also given to the transition's emails."""
    context.note(summary, scheduled=summary)
    record(
        context.session,
        context.ticket,
        actor=context.actor,
        kind="scheduled",
        summary=summary,
        payload=payload,
        now=context.now,
    )


@registry.register("apply_plan")
def apply_plan(context: StepContext) -> None:
    """R5: the plan, 1 admin user, the agent, user, telephone and mobile-agent licenses, WebRTC and
    Phonebar, at once; the license becomes active and billed (a trial converts, R2)."""
    license = context.license
    catalogue = context.resources.catalogue
    form = context.ticket.form_data or {}
    snapshot = {key: 0 for key in license.entitlements or {}}
    snapshot |= {item.key: item.included for item in catalogue.items.values() if item.included}
    snapshot |= {key: int(form.get(key) or 0) for key in PLAN_COUNTS}
    snapshot |= {key: 1 for key in PLAN_FEATURES}
    lines = [
        change_line(
            "Plan",
            catalogue.plans[license.plan].title if license.plan else None,
            catalogue.plans[form["plan"]].title,
        )
    ]
    lines += [change_line("License", license.state.value.replace("_", " "), "active")]
    lines += apply_entitlements(context, snapshot, paid=True)
    license.plan = form["plan"]
    license.state = LicenseState.ACTIVE
    license.customer_id = context.ticket.customer_id
    license.activated_at, license.paid_since, license.expires_at = context.now, context.now, None
    license.billing_frequency = license.billing_frequency or "monthly"
    license_changed(context, license)
    _note(context, f"Plan {form['plan']} applied to {license.token}", lines)


@registry.register("apply_plan_options")
def apply_plan_options(context: StepContext) -> None:
    """R6, after the administrative check: add-ons, plugins, support plan, billing frequency and
    white label, as the form asked or as staff amended them."""
    license = context.license
    catalogue = context.resources.catalogue
    values = requested_snapshot(context)
    values["white_label"] = int(bool(requested(context, "white_label", False)))
    support = requested(context, "support_plan")
    frequency = requested(context, "billing_frequency", license.billing_frequency)
    lines = [
        change_line(
            "Support plan",
            _title(catalogue.support_plans, license.support_plan),
            _title(catalogue.support_plans, support),
        ),
        change_line(
            "Billing frequency",
            _title(catalogue.billing_frequencies, license.billing_frequency),
            _title(catalogue.billing_frequencies, frequency),
        ),
    ]
    lines = [line for line in lines if line["before"] != line["after"]]
    license.support_plan, license.billing_frequency = support, frequency
    lines += apply_entitlements(context, values)
    license_changed(context, license)
    _note(context, f"Plan options applied to {license.token}", lines)


def _title(choices: Mapping[str, Any], key: str | None) -> str | None:
    return choices[key].title if key is not None and key in choices else key


class DirectionParams(marshmallow.Schema):
    direction = fields.String(required=True, validate=validate.OneOf(["add", "remove"]))


@registry.register("apply_totals", params=DirectionParams)
def apply_totals(context: StepContext, *, direction: str) -> None:
    """R10: set the new totals the modify form gives; an add also turns the named add-ons and
    plugins on, a remove turns them off. An add's increase is billed pro rata from today (R11)."""
    license = context.license
    values = _modify_values(context, direction)
    lines = apply_entitlements(context, values)
    if lines:
        license_changed(context, license)
    _note(context, f"{direction.capitalize()} applied to {license.token}", lines)


def _modify_values(context: StepContext, direction: str) -> dict[str, int]:
    """The snapshot an add or remove asks for, checked against R10's direction."""
    before = {k: int(v) for k, v in (context.license.entitlements or {}).items()}
    after = requested_snapshot(context, turn_off=direction == "remove")
    (check_add if direction == "add" else check_remove)(before, after)
    return after


class InstantParams(marshmallow.Schema):
    at = fields.String(
        required=True, validate=validate.OneOf(["decrease_effective_date", "first_of_next_month"])
    )


@registry.register("announce_decrease", params=InstantParams)
def announce_decrease(context: StepContext, *, at: str) -> None:
    """R11: check the remove request now (R10) and tell the customer when it takes effect —
    the same calendar instant the workflow's timer fires at."""
    values = _modify_values(context, "remove")
    when = instant(at, CalendarInputs(context.now, context.license, context.resources.catalogue))
    before = context.license.entitlements or {}
    catalogue = context.resources.catalogue
    parts = [
        f"{catalogue.item(key).title} from {quantity_words(context, key, int(before.get(key, 0)))}"
        f" to {quantity_words(context, key, value)}"
        for key, value in sorted(values.items())
        if int(before.get(key, 0)) != value
    ]
    what = "; ".join(parts) or "nothing changes"
    _announce(
        context,
        f"Your license goes down {effective_words(when, context.now)}: {what}.",
        effective_at=when.isoformat(),
    )


@registry.register("schedule_deactivation")
def schedule_deactivation_step(context: StepContext) -> None:
    """R12: the license stays active and billed to the end of its billing period, then is
    deactivated."""
    license = context.license
    ends_on = schedule_deactivation(context.resources.catalogue, license, context.now.date())
    when = dt.datetime.combine(ends_on, dt.time(), dt.UTC)
    _announce(
        context,
        f"Your license {license.token} is deactivated {effective_words(when, context.now)}, "
        "at the end of its billing period; it is billed until then.",
        effective_at=when.isoformat(),
    )


class StateParams(marshmallow.Schema):
    state = fields.String(required=True, validate=validate.OneOf([s.value for s in LicenseState]))


@registry.register("set_license_state", params=StateParams)
def set_license_state(context: StepContext, *, state: str) -> None:
    """Put the license in `state`; the first move to active starts its paid billing (R11)."""
    license = context.license
    previous, license.state = license.state, LicenseState(state)
    if license.state is LicenseState.ACTIVE and license.paid_since is None:
        license.paid_since = context.now
    license_changed(context, license)
    _note(
        context,
        f"License {license.token}: {previous.value} -> {license.state.value}",
        [change_line("License", _words(previous), _words(license.state))],
        state=license.state.value,
    )


def _words(state: LicenseState) -> str:
    return state.value.replace("_", " ")


# R13: each contract item the form offers -> (its new-value field, the license attribute, what
# the customer reads, the catalogue section of its choices).
CONTRACT_CHOICES = {
    "license_plan": ("new_plan", "plan", "Plan", "plans"),
    "support_plan": ("new_support_plan", "support_plan", "Support plan", "support_plans"),
    "billing_frequency": (
        "new_billing_frequency",
        "billing_frequency",
        "Billing frequency",
        "billing_frequencies",
    ),
}


@registry.register("apply_contract_change")
def apply_contract_change(context: StepContext) -> None:
    """R13, after the team verified it: the new license plan, support plan, billing frequency or
    white label the customer chose (or staff amended)."""
    license = context.license
    catalogue = context.resources.catalogue
    chosen = requested(context, "changes", []) or []
    lines: list[dict[str, str]] = []
    for item, (field, attribute, what, section) in CONTRACT_CHOICES.items():
        if item in chosen:
            choices = getattr(catalogue, section)
            value = requested(context, field)
            before = _title(choices, getattr(license, attribute))
            lines.append(change_line(what, before, _title(choices, value)))
            setattr(license, attribute, value)
    if "white_label" in chosen:
        wanted = bool(requested(context, "new_white_label", False))
        lines += apply_entitlements(context, {"white_label": int(wanted)})
    license_changed(context, license)
    _note(context, f"Contract change applied to {license.token}", lines)


class ReactivateParams(marshmallow.Schema):
    trial_days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))


@registry.register("reactivate_license", params=ReactivateParams)
def reactivate_license(context: StepContext, *, trial_days: int) -> None:
    """R14: a paid license becomes active again (billing resumes, no end date); an expired trial
    (reason a) gets `trial_days` more."""
    license = context.license
    previous = license.state
    if license.paid_since is not None:
        license.state, license.billing_ends_on, license.expires_at = LicenseState.ACTIVE, None, None
    else:
        license.state = LicenseState.TRIAL
        license.expires_at = context.now + dt.timedelta(days=trial_days)
    license_changed(context, license)
    after = _words(license.state) + (
        f" until {license.expires_at:%Y-%m-%d}" if license.expires_at else ""
    )
    _note(
        context,
        f"License {license.token} re-activated",
        [change_line("License", _words(previous), after)],
    )


@registry.register("apply_feature_update")
def apply_feature_update(context: StepContext) -> None:
    """R16: the applications and capacities the customer asked for (as staff applied them); the
    server picks them up on its next sync, with no new license key."""
    values = requested_snapshot(context)
    lines = apply_entitlements(context, values)
    if lines:
        license_changed(context, context.license)
    _note(context, f"Feature update applied to {context.license.token}", lines)


@registry.register("email_plugin_instructions")
def email_plugin_instructions(context: StepContext) -> None:
    """R9: when this ticket turned plugins on, a separate email with each plugin's download and
    documentation links (sent with the transition's emails)."""
    plugins = plugins_turned_on(context.resources.catalogue, context.license, context.ticket.id)
    if plugins:
        context.note(
            f"Plugin instructions for {', '.join(p.title for p in plugins)}",
            email=STEP_EMAILS["email_plugin_instructions"],
        )
