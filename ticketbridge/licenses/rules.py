"""Licensing rules R7, R8 and R10 as pure checks on entitlement snapshots.

A snapshot maps catalogue item keys to quantities; an absent key means 0. The checks are
kept free of the database so the web form, the workflow steps and the ledger all enforce
the same rules, and each violation names the item in words a customer can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ticketbridge.errors import RuleViolation
from ticketbridge.licenses.catalogue import Catalogue, ItemKind

Entitlements = Mapping[str, int]
LIST_FIELD_OF_KIND = {
    ItemKind.ADD_ON: "add_ons",
    ItemKind.PLUGIN: "plugins",
    ItemKind.APPLICATION: "applications",
}
FLAG_LIST_FIELDS = tuple(LIST_FIELD_OF_KIND.values())
"""Multiple-choice fields whose values are catalogue flags a request turns on (or, on a
removal, off); applications come with feature updates (R16, R18)."""


def check_entitlements(catalogue: Catalogue, entitlements: Entitlements, *, paid: bool) -> None:
    """Raise RuleViolation unless the snapshot is a license the team may issue.

    Quantities are whole numbers of zero or more and on/off items are 0 or 1 (R10: a request
    states totals); every key is a catalogue item; a paid plan has at least the paid minimum
    of each item (R7: 5 concurrent agents); included items are always there (R7: one admin
    user); an add-on that needs another is only on together with it (R8).
    """
    for key, quantity in entitlements.items():
        if not catalogue.is_known(key):
            raise RuleViolation(
                "R10", f"{_words(key)} is not something a license can include.", field=key
            )
        item = catalogue.item(key)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise RuleViolation(
                "R10",
                f"{item.title} must be a whole number of zero or more, not {quantity!r}.",
                field=key,
            )
        if item.is_flag and quantity > 1:
            raise RuleViolation(
                "R10", f"{item.title} is either on (1) or off (0), not {quantity}.", field=key
            )
    for item in catalogue.items.values():
        quantity = entitlements.get(item.key, 0)
        if quantity < item.included:
            raise RuleViolation(
                "R7",
                f"{item.title}: {item.included} always included, "
                f"so the license cannot have {quantity}.",
                field=item.key,
            )
        if paid and quantity < item.paid_minimum:
            raise RuleViolation(
                "R7",
                f"{item.title}: a paid plan needs at least {item.paid_minimum}, not {quantity}.",
                field=item.key,
            )
        if quantity:
            for required in item.requires:
                if not entitlements.get(required, 0):
                    raise RuleViolation(
                        "R8",
                        f"{item.title} can only be enabled together with "
                        f"{catalogue.item(required).title}.",
                        field=item.key,
                    )


def check_add(before: Entitlements, after: Entitlements) -> None:
    """R10: an add request states new totals, and none of them may be below the current one."""
    _check_direction(before, after, adding=True)


def check_remove(before: Entitlements, after: Entitlements) -> None:
    """R10: a remove request states new totals, and none of them may exceed the current one."""
    _check_direction(before, after, adding=False)


def _check_direction(before: Entitlements, after: Entitlements, *, adding: bool) -> None:
    request, wrong, other = (
        ("An add", "lower", "a remove") if adding else ("A remove", "raise", "an add")
    )
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, 0), after.get(key, 0)
        if (new < old) if adding else (new > old):
            raise RuleViolation(
                "R10",
                f"{request} request cannot {wrong} {_words(key)} from {old} to {new}; "
                f"give the new total, or send {other} request to {wrong} it.",
                field=key,
            )


def _words(key: str) -> str:
    """An item key as the customer reads it on the form ("mobile_agents" -> "mobile agents")."""
    return key.replace("_", " ")


def requested_entitlements(
    catalogue: Catalogue, form: Mapping[str, Any], current: Mapping[str, int], *, turn_off: bool
) -> dict[str, int]:
    """The license the request asks for: totals from the form's item fields (by key or alias,
    R10), flags from its add-on and plugin lists, the rest as it is."""
    after = dict(current)
    for name, value in form.items():
        key = catalogue.canonical_key(name)
        if key and catalogue.item(key).kind is ItemKind.COUNT and type(value) is int:
            after[key] = value
    for name in FLAG_LIST_FIELDS:
        for key in form.get(name) or ():
            after[key] = 0 if turn_off else 1
    return after
