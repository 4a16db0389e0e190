"""What a staff action will do to the license, shown before the person confirms it.

The action is really applied — by the engine, its steps and the ledger, exactly as on
confirm — inside a SAVEPOINT that is then rolled back, so the preview cannot drift from what
happens. What it reads off: the entitlements before and after, whether a new license key is
issued, and the invoice lines the change adds (R11), each with its dates and the invoice it
lands on. A refused action raises its error as on confirm. Nothing leaves the savepoint:
emails, timers and jobs registered inside it are dropped with it (db.after_commit).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ticketbridge.licenses.billing import InvoiceLine, LineKind, last_day_of_month
from ticketbridge.licenses.invoicing import invoice_for
from ticketbridge.licenses.models import License
from ticketbridge.staff.actions import Staff, act
from ticketbridge.tickets.models import Ticket

if TYPE_CHECKING:
    from ticketbridge.runtime import Runtime


@dataclass(frozen=True)
class ItemChange:
    item: str
    before: int
    after: int
    effective_on: dt.date


@dataclass(frozen=True)
class PreviewLine:
    line: InvoiceLine
    invoice_on: dt.date

    @property
    def description(self) -> str:
        line, invoice = self.line, f"on the {self.invoice_on:%-d %b %Y} invoice"
        if line.kind is LineKind.PRO_RATA:
            what = "credit" if line.quantity < 0 else "pro-rata"
            return (
                f"{what} from {line.period_start:%-d %b} to {line.period_end:%-d %b %Y}, {invoice}"
            )
        if line.kind is LineKind.ADVANCE:
            return (
                f"in advance for {line.period_start:%-d %b} – {line.period_end:%-d %b %Y}, "
                f"{invoice}"
            )
        return f"usage {line.period_start:%-d %b} – {line.period_end:%-d %b}, {invoice}"


@dataclass(frozen=True)
class ChangePreview:
    token: str
    state_before: str
    state_after: str
    changes: list[ItemChange]
    new_key: bool
    lines: list[PreviewLine]
    notes: list[str]

    @property
    def changes_license(self) -> bool:
        return bool(self.changes or self.new_key or self.state_before != self.state_after)


def _snapshot(license: License) -> tuple[str, str | None]:
    return license.state.value, license.license_key


def _invoice(runtime: Runtime, license: License, month: dt.date) -> Counter[InvoiceLine]:
    if license.paid_since is None:
        return Counter()
    return Counter(invoice_for(runtime.catalogue, license, month).lines)


def preview_action(
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    staff: Staff,
    transition: str,
    fields: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> ChangePreview | None:
    """The license change `transition` would make now; None when the ticket has no license."""
    license = ticket.license
    if license is None:
        return None
    token = license.token
    state_before, key_before = _snapshot(license)
    written_before = {change.id for change in license.changes}
    events_before = {event.id for event in ticket.events}
    savepoint = session.begin_nested()
    try:
        act(session, runtime, ticket, staff, transition, fields, now=now)
        session.flush()
        license = ticket.license or license
        state_after, key_after = _snapshot(license)
        written = [c for c in license.changes if c.id not in written_before]
        changes = [
            ItemChange(c.item, c.old_quantity, c.new_quantity, c.effective_at.date())
            for c in written
        ]
        months = sorted(
            {now.date().replace(day=1)} | {c.effective_on.replace(day=1) for c in changes}
        )
        after = {month: _invoice(runtime, license, month) for month in months}
        notes = [
            note["summary"]
            for event in ticket.events
            if event.kind == "transition" and event.id not in events_before
            for note in event.payload.get("notes", [])
        ]
    finally:
        savepoint.rollback()
        session.expire_all()
    lines: list[PreviewLine] = []
    for month, lines_after in after.items():
        added = lines_after - _invoice(runtime, license, month)
        lines.extend(PreviewLine(line, last_day_of_month(month)) for line in added.elements())
    return ChangePreview(
        token, state_before, state_after, changes, key_after != key_before, lines, notes
    )
