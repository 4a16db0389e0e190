"""What every license-changing step shares: write through the ledger, count a revision, and say
what changed in the customer's words.

Each step notes its changes as `changes: [{"what", "before", "after"}]` on the timeline; the
engine hands them to the transition's emails, so "applied" emails list before → after without
any step knowing about emails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import License
from ticketbridge.licenses.revisions import mark_changed
from ticketbridge.steps.registry import StepContext


def change_line(what: str, before: Any, after: Any) -> dict[str, str]:
    return {"what": what, "before": _shown(before), "after": _shown(after)}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    return str(value)


def quantity_words(context: StepContext, key: str, quantity: int) -> str:
    """An entitlement as the customer reads it: "on"/"off" for flags, the number for counts."""
    if context.resources.catalogue.item(key).is_flag:
        return "on" if quantity else "off"
    return str(quantity)


def apply_entitlements(
    context: StepContext, new_values: Mapping[str, int], *, paid: bool | None = None
) -> list[dict[str, str]]:
    """Set items to new totals through the ledger (rules R7, R8, R10 checked there); returns the
    change lines. `paid` defaults to whether the license is billed. The step calls
    `license_changed` once, after all its changes (a step that also changes the plan or state
    would otherwise count its revision and its ticket's wait twice)."""
    license = context.license
    catalogue = context.resources.catalogue
    rows = apply_changes(
        context.session,
        license,
        new_values,
        effective_at=context.now,
        ticket_id=context.ticket.id,
        actor=context.actor,
        catalogue=catalogue,
        paid=license.paid_since is not None if paid is None else paid,
    )
    return [
        change_line(
            catalogue.item(row.item).title,
            quantity_words(context, row.item, row.old_quantity),
            quantity_words(context, row.item, row.new_quantity),
        )
        for row in rows
    ]


def license_changed(context: StepContext, license: License) -> None:
    """The server must fetch the license again; this ticket hears when it does."""
    mark_changed(context.session, license, ticket_id=context.ticket.id, now=context.now)


def requested(context: StepContext, name: str, default: Any = None) -> Any:
    """What staff set for `name` on this transition (an amendment), else what the form asked."""
    if context.fields.get(name) is not None:
        return context.fields[name]
    value = (context.ticket.form_data or {}).get(name)
    return default if value is None else value
