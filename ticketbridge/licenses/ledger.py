"""Writing entitlement changes: one ledger row per changed item, and the snapshot beside it.

The ledger (EntitlementChange rows) is the record; `License.entitlements` is its snapshot,
kept in the same flush so the two cannot disagree. `replay` derives the snapshot from the
ledger alone, which is how tests and audits prove they agree. Both leave out items at 0, so
"absent" and "0" mean the same thing and a removed plugin leaves no stale key behind.

Changes are applied when they take effect: a decrease deferred to the 1st of next month
(R11) is applied then, by whoever schedules it, not recorded early.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.errors import TicketbridgeError
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.models import EntitlementChange, License
from ticketbridge.licenses.rules import check_entitlements


class LedgerBroken(TicketbridgeError):
    """The ledger contradicts itself: a row's old quantity is not what the rows before left."""

    http_status = 500


def apply_changes(
    session: Session,
    license: License,
    new_values: Mapping[str, int],
    *,
    effective_at: dt.datetime,
    ticket_id: int | None,
    actor: Actor,
    catalogue: Catalogue,
    paid: bool,
) -> list[EntitlementChange]:
    """Set the given items to their new totals; return the ledger rows written (flushed, not
    committed).

    Items not named keep their quantity. The whole resulting snapshot is checked (R7, R8,
    R10) before anything is written, so a refused change leaves the session untouched.
    Whether the request may raise or lower a total (an add or a remove) is the caller's
    check (rules.check_add / check_remove), since only it knows the request type.
    """
    before = {key: int(quantity) for key, quantity in (license.entitlements or {}).items()}
    after = {**before, **new_values}
    check_entitlements(catalogue, after, paid=paid)
    rows = [
        EntitlementChange(
            license=license,
            item=key,
            old_quantity=before.get(key, 0),
            new_quantity=after[key],
            effective_at=effective_at,
            ticket_id=ticket_id,
            actor=actor,
        )
        for key in sorted(new_values)
        if after[key] != before.get(key, 0)
    ]
    session.add_all(rows)
    # A new dict, not an in-place update: SQLAlchemy does not track mutations inside JSON.
    license.entitlements = {key: quantity for key, quantity in sorted(after.items()) if quantity}
    session.flush()
    return rows


def replay(changes: Iterable[EntitlementChange]) -> dict[str, int]:
    """The entitlement snapshot the ledger rows (in the order written) add up to."""
    snapshot: dict[str, int] = {}
    for change in changes:
        if change.old_quantity != snapshot.get(change.item, 0):
            raise LedgerBroken(
                f"ledger row {change.id} changes {change.item} from {change.old_quantity}, "
                f"but the rows before it left {snapshot.get(change.item, 0)}"
            )
        snapshot[change.item] = change.new_quantity
    return {key: quantity for key, quantity in sorted(snapshot.items()) if quantity}
