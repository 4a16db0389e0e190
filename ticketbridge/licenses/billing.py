"""Billing rules R8, R11 and R12 as pure functions over plain records.

The policy, from the vendor's license rules (R11, R12) plus the decisions where they are
silent:

- Invoices are dated the last day of each month and bill in advance: the invoice dated the
  day before a billing period starts bills that whole period (a month, or a year from the
  cycle's anchor), at the quantities in force on its first day.
- A change taking effect inside a period is billed pro rata, from its effective day to the
  period's end inclusive, on the invoice of the month it takes effect in (the earliest
  invoice): a charge for an increase, a credit for a decrease. A change effective on a
  period's first day is already in that period's advance bill.
- A decrease requested by the 20th (inclusive) takes effect that day, so the rest of the
  period is credited; after the 20th it takes effect on the 1st of next month, so the
  current month stays as billed. `decrease_effective_date` decides the date; billing only
  follows effective dates.
- A deactivation takes effect when the current billing period ends; nothing is billed in
  advance from then on.
- Add-ons billed on usage (R8: AI bots) are billed in arrears on the invoice of the month
  the use was recorded, at the catalogue's price per use.

Inputs are frozen dataclasses a database layer can build from ledger rows and usage
counters; nothing here reads the clock or the database.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from ticketbridge.licenses.catalogue import Catalogue

DECREASE_CUTOFF_DAY = 20  # R11
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ChangeRecord:
    """One item's quantity change and the day it takes effect (from an EntitlementChange)."""

    item: str
    old: int
    new: int
    effective_on: dt.date


@dataclass(frozen=True)
class UsageRecord:
    """Recorded use of a usage-billed item (R8), e.g. AI bot conversations on a day."""

    item: str
    quantity: int
    used_on: dt.date


@dataclass(frozen=True)
class BillingCycle:
    """A billing frequency and the first day of one of its periods (always a 1st of a month)."""

    frequency: str
    months: int
    anchor: dt.date

    def __post_init__(self) -> None:
        if self.anchor.day != 1 or self.months < 1:
            raise ValueError(
                f"a billing cycle runs whole months from a 1st, not {self.months} from "
                f"{self.anchor}"
            )

    @classmethod
    def of(cls, catalogue: Catalogue, frequency: str, anchor: dt.date) -> BillingCycle:
        """The cycle of a catalogue frequency; for new licenses, anchor on the 1st after
        activation."""
        return cls(frequency, catalogue.billing_frequencies[frequency].months, anchor)

    def period_containing(self, day: dt.date) -> tuple[dt.date, dt.date]:
        """First and last day of the billing period that `day` falls in (before the anchor too)."""
        elapsed = (day.year - self.anchor.year) * 12 + day.month - self.anchor.month
        start = _add_months(self.anchor, (elapsed // self.months) * self.months)
        return start, _add_months(start, self.months) - dt.timedelta(days=1)


class LineKind(enum.StrEnum):
    ADVANCE = "advance"  # the next period, billed in advance
    PRO_RATA = "pro_rata"  # a change inside a period: a charge (increase) or credit (decrease)
    USAGE = "usage"  # recorded use, billed in arrears


@dataclass(frozen=True)
class InvoiceLine:
    """One line: `quantity` billable units (negative for a credit) for `fraction` of the period."""

    item: str
    kind: LineKind
    quantity: int
    period_start: dt.date
    period_end: dt.date
    fraction: Fraction
    amount: Decimal


def last_day_of_month(day: dt.date) -> dt.date:
    return _add_months(day.replace(day=1), 1) - dt.timedelta(days=1)


def decrease_effective_date(requested_on: dt.date) -> dt.date:
    """R11: by the 20th (inclusive) at once, after it on the 1st of the following month."""
    if requested_on.day <= DECREASE_CUTOFF_DAY:
        return requested_on
    return last_day_of_month(requested_on) + dt.timedelta(days=1)


def deactivation_effective_date(requested_on: dt.date, cycle: BillingCycle) -> dt.date:
    """R12: the day after the current billing period ends; until then the license runs as paid."""
    return cycle.period_containing(requested_on)[1] + dt.timedelta(days=1)


def quantities_on(changes: Iterable[ChangeRecord], day: dt.date) -> dict[str, int]:
    """The entitlements in force on `day`: every change effective on or before it, in order."""
    quantities: dict[str, int] = {}
    for change in sorted(changes, key=lambda c: c.effective_on):
        if change.effective_on <= day:
            quantities[change.item] = change.new
    return {key: quantity for key, quantity in quantities.items() if quantity}


def invoice_lines(
    catalogue: Catalogue,
    changes: Sequence[ChangeRecord],
    cycle: BillingCycle,
    month: dt.date,
    *,
    usage: Iterable[UsageRecord] = (),
    ends_on: dt.date | None = None,
) -> list[InvoiceLine]:
    """The lines of the invoice dated the last day of `month` (any day of it may be given).

    `changes` is the license's whole history as change records; `ends_on` is the effective
    date of a deactivation (see `deactivation_effective_date`), after which nothing more is
    billed in advance.
    """
    invoice_day = last_day_of_month(month)
    first_day = invoice_day.replace(day=1)
    lines: list[InvoiceLine] = []

    for change in sorted(changes, key=lambda c: (c.effective_on, c.item)):
        if not first_day <= change.effective_on <= invoice_day:
            continue
        if ends_on is not None and change.effective_on >= ends_on:
            continue
        start, end = cycle.period_containing(change.effective_on)
        if change.effective_on == start:
            continue  # already in this period's advance bill
        item = catalogue.item(change.item)
        if item.billed_on_usage:
            continue
        delta = _billable(catalogue, change.item, change.new) - _billable(
            catalogue, change.item, change.old
        )
        if delta:
            fraction = Fraction((end - change.effective_on).days + 1, (end - start).days + 1)
            price = catalogue.price(change.item, cycle.frequency)
            lines.append(
                InvoiceLine(
                    change.item,
                    LineKind.PRO_RATA,
                    delta,
                    change.effective_on,
                    end,
                    fraction,
                    _amount(price * delta, fraction),
                )
            )

    next_day = invoice_day + dt.timedelta(days=1)
    start, end = cycle.period_containing(next_day)
    if start == next_day and (ends_on is None or next_day < ends_on):
        in_force = quantities_on(changes, next_day)
        for key in catalogue.items:
            billable = _billable(catalogue, key, in_force.get(key, 0))
            if billable and not catalogue.item(key).billed_on_usage:
                price = catalogue.price(key, cycle.frequency)
                lines.append(
                    InvoiceLine(
                        key,
                        LineKind.ADVANCE,
                        billable,
                        start,
                        end,
                        Fraction(1),
                        _amount(price * billable, Fraction(1)),
                    )
                )

    used: dict[str, int] = defaultdict(int)
    for record in usage:
        if first_day <= record.used_on <= invoice_day:
            used[record.item] += record.quantity
    for key in sorted(used):
        if used[key]:
            lines.append(
                InvoiceLine(
                    key,
                    LineKind.USAGE,
                    used[key],
                    first_day,
                    invoice_day,
                    Fraction(1),
                    _amount(catalogue.usage_price(key) * used[key], Fraction(1)),
                )
            )
    return lines


def _billable(catalogue: Catalogue, key: str, quantity: int) -> int:
    """Units that cost money: included ones (R7: the admin user) are free."""
    return max(0, quantity - catalogue.item(key).included)


def _amount(full: Decimal, fraction: Fraction) -> Decimal:
    return (full * fraction.numerator / fraction.denominator).quantize(CENT, rounding=ROUND_HALF_UP)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The 1st-of-month `day` moved by `months` (only ever called with 1sts, so no day clamping)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, day.day)
