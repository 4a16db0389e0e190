"""Every catalogue name a workflow uses must be in config/catalogue.yaml.

A plan, add-on or plugin misspelt in a form's choices would be offered to customers and fail
only in the step that applies it. Checked here, each with file:line:column: the choices of the
fields whose values are catalogue names (`steps.requests.CATALOGUE_FIELDS`), the integer fields
that steps read as item totals (they must name a counted item or one of its aliases), and the
items and plans guards compare against (`license.entitlements.botify`, `license.plan == "x"`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ticketbridge.licenses.catalogue import Catalogue, ItemKind
from ticketbridge.steps.requests import CATALOGUE_FIELDS, TOTALS_STEPS
from ticketbridge.workflow.definitions import FieldType, FormField, Workflow
from ticketbridge.workflow.problems import Problem

ENTITLEMENT = re.compile(r"""license\.entitlements\s*(?:\.\s*(\w+)|\[\s*["'](\w+)["']\s*\])""")
PLAN = re.compile(r"""license\.plan\s*[!=]=\s*["'](\w+)["']""")


def check_catalogue_names(workflow: Workflow, catalogue: Catalogue) -> list[Problem]:
    return [
        *_choices(workflow, catalogue),
        *_totals(workflow, catalogue),
        *_guards(workflow, catalogue),
    ]


def section_keys(catalogue: Catalogue, section: str) -> list[str]:
    named = {
        "plans": catalogue.plans,
        "support_plans": catalogue.support_plans,
        "billing_frequencies": catalogue.billing_frequencies,
    }
    if section in named:
        return list(named[section])
    return [item.key for item in catalogue.items_of(ItemKind(section))]


def _fields(workflow: Workflow) -> Iterator[FormField]:
    yield from workflow.form.fields
    for transition in workflow.transitions:
        yield from transition.trigger.fields


def _choices(workflow: Workflow, catalogue: Catalogue) -> Iterator[Problem]:
    for field in _fields(workflow):
        section = CATALOGUE_FIELDS.get(field.name)
        if section is None:
            continue
        known = section_keys(catalogue, section)
        for choice in field.choice_values():
            if choice not in known:
                yield Problem(
                    field.position,
                    f"field {field.name!r} offers {choice!r}, which is not in the catalogue's "
                    f"{section}",
                    f"use one of: {', '.join(known)} (or add it to {catalogue.source.name})",
                )


def _totals(workflow: Workflow, catalogue: Catalogue) -> Iterator[Problem]:
    if not {a.step for a in workflow.all_actions()} & TOTALS_STEPS:
        return
    counted = [item.key for item in catalogue.items_of(ItemKind.COUNT)]
    for field in workflow.form.fields:
        key = catalogue.canonical_key(field.name)
        if field.type == FieldType.INTEGER and (key is None or key not in counted):
            yield Problem(
                field.position,
                f"integer field {field.name!r} is read as the new total of an item, but the "
                "catalogue has no counted item or alias of that name",
                f"name it after one of: {', '.join(counted)}",
            )


def _guards(workflow: Workflow, catalogue: Catalogue) -> Iterator[Problem]:
    guards = [t.guard for t in workflow.transitions if t.guard is not None]
    for guard in guards:
        for dotted, indexed in ENTITLEMENT.findall(guard.source):
            name = dotted or indexed
            if not catalogue.is_known(name) and guard.position is not None:
                yield Problem(
                    guard.position,
                    f"{guard.source!r} reads license.entitlements.{name}, which is not a "
                    "catalogue item",
                    f"use one of: {', '.join(catalogue.items)}",
                )
        for plan in PLAN.findall(guard.source):
            if plan not in catalogue.plans and guard.position is not None:
                yield Problem(
                    guard.position,
                    f"{guard.source!r} compares license.plan with {plan!r}, which is not a plan",
                    f"use one of: {', '.join(catalogue.plans)}",
                )
