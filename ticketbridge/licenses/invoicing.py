"""Billing from the database: ledger rows in, the pure billing rules (billing.py) applied, lines
out.

A license is billed from `paid_since` (its activation as a paid license); a trial is not. The
billing cycle is anchored on the 1st on or after that day, so an annual license activated on
12 March renews every 1 April and its first days are billed pro rata up to the anchor (R11).
What the ledger held before the paid start (a demo) counts as already there on that day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ticketbridge.errors import Conflict
from ticketbridge.licenses.billing import (
    BillingCycle,
    ChangeRecord,
    InvoiceLine,
    UsageRecord,
    deactivation_effective_date,
    invoice_lines,
    last_day_of_month,
)
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.models import License, UsageReport

DEFAULT_FREQUENCY = "monthly"


@dataclass(frozen=True)
class LicenseInvoice:
    token: str
    cycle: BillingCycle
    lines: list[InvoiceLine]


def billing_cycle(catalogue: Catalogue, license: License) -> BillingCycle:
    if license.paid_since is None:
        raise Conflict(
            f"Server token {license.token} is not a paid license, so it has no billing cycle."
        )
    start = license.paid_since.date()
    anchor = start if start.day == 1 else last_day_of_month(start) + dt.timedelta(days=1)
    return BillingCycle.of(catalogue, license.billing_frequency or DEFAULT_FREQUENCY, anchor)


def change_records(license: License) -> list[ChangeRecord]:
    """The ledger as billing records, what came before the paid start folded into its first day."""
    if license.paid_since is None:
        return []
    start = license.paid_since.date()
    opening: dict[str, int] = {}
    records = []
    for change in license.changes:
        day = change.effective_at.date()
        if day < start:
            opening[change.item] = change.new_quantity
        else:
            records.append(ChangeRecord(change.item, change.old_quantity, change.new_quantity, day))
    return [
        ChangeRecord(item, 0, quantity, start)
        for item, quantity in sorted(opening.items())
        if quantity
    ] + records


def schedule_deactivation(catalogue: Catalogue, license: License, requested_on: dt.date) -> dt.date:
    """R12: the license is billed to the end of the current billing period; returns the first day
    unbilled."""
    license.billing_ends_on = deactivation_effective_date(
        requested_on, billing_cycle(catalogue, license)
    )
    return license.billing_ends_on


def invoice_for(
    catalogue: Catalogue, license: License, month: dt.date, usage: Iterable[UsageRecord] = ()
) -> LicenseInvoice:
    cycle = billing_cycle(catalogue, license)
    lines = invoice_lines(
        catalogue,
        change_records(license),
        cycle,
        month,
        usage=usage,
        ends_on=license.billing_ends_on,
    )
    return LicenseInvoice(license.token, cycle, lines)


def usage_in_month(session: Session, month: dt.date) -> dict[int, list[UsageRecord]]:
    """R8: AI conversations the servers reported during `month`, per license id, in one query."""
    first = dt.datetime.combine(month.replace(day=1), dt.time(), dt.UTC)
    after = dt.datetime.combine(last_day_of_month(month) + dt.timedelta(days=1), dt.time(), dt.UTC)
    reports = session.scalars(
        select(UsageReport).where(UsageReport.reported_at >= first, UsageReport.reported_at < after)
    )
    usage: dict[int, list[UsageRecord]] = defaultdict(list)
    for report in reports:
        usage[report.license_id].extend(
            UsageRecord(item, count, report.reported_at.date())
            for item, count in report.ai_conversations.items()
        )
    return usage


def invoices_for_month(
    session: Session, catalogue: Catalogue, month: dt.date
) -> list[LicenseInvoice]:
    """The invoice of every paid license for the invoice dated the last day of `month`, by token."""
    licenses = session.scalars(
        select(License)
        .where(License.paid_since.is_not(None))
        .order_by(License.token)
        .options(selectinload(License.changes))
    )
    usage = usage_in_month(session, month)
    return [
        invoice_for(catalogue, license, month, usage.get(license.id, ())) for license in licenses
    ]
