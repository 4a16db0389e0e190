"""R11 and R12 billing edges, table-driven. Prices are the catalogue's example figures:
agents 30.00 a month / 324.00 a year, users 5.00 / 54.00, admins 5.00 with one included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from ticketbridge.licenses.billing import (
    BillingCycle,
    ChangeRecord,
    InvoiceLine,
    LineKind,
    UsageRecord,
    deactivation_effective_date,
    decrease_effective_date,
    invoice_lines,
    last_day_of_month,
)
from ticketbridge.licenses.catalogue import Catalogue

D = dt.date


def monthly(catalogue: Catalogue) -> BillingCycle:
    return BillingCycle.of(catalogue, "monthly", D(2024, 1, 1))


def lines(
    catalogue: Catalogue,
    changes: list[ChangeRecord],
    cycle: BillingCycle,
    month: dt.date,
    **kwargs: object,
) -> list[tuple[str, LineKind, int, dt.date, dt.date, Fraction, str]]:
    return [
        (
            line.item,
            line.kind,
            line.quantity,
            line.period_start,
            line.period_end,
            line.fraction,
            str(line.amount),
        )
        for line in invoice_lines(catalogue, changes, cycle, month, **kwargs)
    ]  # type: ignore[arg-type]


FIVE_AGENTS_SINCE_2024 = [
    ChangeRecord("agents", 0, 5, D(2024, 1, 1)),
    ChangeRecord("admins", 0, 1, D(2024, 1, 1)),
]


@pytest.mark.parametrize(
    ("requested", "effective"),
    [
        (D(2025, 1, 1), D(2025, 1, 1)),
        (D(2025, 1, 20), D(2025, 1, 20)),
        (D(2025, 1, 21), D(2025, 2, 1)),
        (D(2025, 1, 31), D(2025, 2, 1)),
        (D(2025, 2, 28), D(2025, 3, 1)),
        (D(2025, 12, 21), D(2026, 1, 1)),
        (D(2028, 2, 20), D(2028, 2, 20)),
        (D(2028, 2, 21), D(2028, 3, 1)),
        (D(2028, 2, 29), D(2028, 3, 1)),
    ],
)
def test_r11_decrease_by_the_20th_is_immediate_after_it_next_month(
    requested: dt.date, effective: dt.date
) -> None:
    assert decrease_effective_date(requested) == effective


@pytest.mark.parametrize(
    ("day", "last"),
    [
        (D(2025, 1, 15), D(2025, 1, 31)),
        (D(2025, 2, 1), D(2025, 2, 28)),
        (D(2028, 2, 10), D(2028, 2, 29)),
        (D(2100, 2, 10), D(2100, 2, 28)),
        (D(2025, 4, 30), D(2025, 4, 30)),
        (D(2025, 12, 31), D(2025, 12, 31)),
    ],
)
def test_r11_invoices_on_the_last_day_of_the_month(day: dt.date, last: dt.date) -> None:
    assert last_day_of_month(day) == last


# An increase of 2 agents (5 -> 7) on `day`: charged from `day` to the end of its period on that
# month's invoice.
@pytest.mark.parametrize(
    ("frequency", "anchor", "day", "period_end", "fraction", "amount"),
    [
        ("monthly", D(2024, 1, 1), D(2025, 1, 15), D(2025, 1, 31), Fraction(17, 31), "32.90"),
        ("monthly", D(2024, 1, 1), D(2025, 1, 31), D(2025, 1, 31), Fraction(1, 31), "1.94"),
        ("monthly", D(2024, 1, 1), D(2025, 4, 30), D(2025, 4, 30), Fraction(1, 30), "2.00"),
        ("monthly", D(2024, 1, 1), D(2025, 2, 15), D(2025, 2, 28), Fraction(1, 2), "30.00"),
        ("monthly", D(2024, 1, 1), D(2028, 2, 15), D(2028, 2, 29), Fraction(15, 29), "31.03"),
        ("monthly", D(2024, 1, 1), D(2028, 2, 29), D(2028, 2, 29), Fraction(1, 29), "2.07"),
        ("annual", D(2028, 1, 1), D(2028, 2, 29), D(2028, 12, 31), Fraction(307, 366), "543.54"),
        ("annual", D(2025, 4, 1), D(2025, 3, 10), D(2025, 3, 31), Fraction(22, 365), "39.06"),
        ("annual", D(2025, 4, 1), D(2025, 7, 1), D(2026, 3, 31), Fraction(274, 365), "486.44"),
    ],
)
def test_r11_increase_is_charged_pro_rata_on_the_earliest_invoice(
    catalogue: Catalogue,
    frequency: str,
    anchor: dt.date,
    day: dt.date,
    period_end: dt.date,
    fraction: Fraction,
    amount: str,
) -> None:
    cycle = BillingCycle.of(catalogue, frequency, anchor)
    changes = [*FIVE_AGENTS_SINCE_2024, ChangeRecord("agents", 5, 7, day)]
    pro_rata = [
        line for line in lines(catalogue, changes, cycle, day) if line[1] is LineKind.PRO_RATA
    ]
    assert pro_rata == [("agents", LineKind.PRO_RATA, 2, day, period_end, fraction, amount)]


def test_r11_billed_in_advance_with_the_activation_month_pro_rata(catalogue: Catalogue) -> None:
    changes = [
        ChangeRecord("agents", 0, 5, D(2025, 1, 10)),
        ChangeRecord("admins", 0, 1, D(2025, 1, 10)),
        ChangeRecord("users", 0, 2, D(2025, 1, 10)),
    ]
    assert lines(catalogue, changes, monthly(catalogue), D(2025, 1, 1)) == [
        (
            "agents",
            LineKind.PRO_RATA,
            5,
            D(2025, 1, 10),
            D(2025, 1, 31),
            Fraction(22, 31),
            "106.45",
        ),
        ("users", LineKind.PRO_RATA, 2, D(2025, 1, 10), D(2025, 1, 31), Fraction(22, 31), "7.10"),
        ("agents", LineKind.ADVANCE, 5, D(2025, 2, 1), D(2025, 2, 28), Fraction(1), "150.00"),
        ("users", LineKind.ADVANCE, 2, D(2025, 2, 1), D(2025, 2, 28), Fraction(1), "10.00"),
    ]
    assert [line[1] for line in lines(catalogue, changes, monthly(catalogue), D(2025, 2, 1))] == [
        LineKind.ADVANCE,
        LineKind.ADVANCE,
    ]


def test_r7_included_admin_is_never_billed(catalogue: Catalogue) -> None:
    changes = [*FIVE_AGENTS_SINCE_2024, ChangeRecord("admins", 1, 2, D(2025, 3, 1))]
    billed = {
        line[0]: line[2] for line in lines(catalogue, changes, monthly(catalogue), D(2025, 3, 1))
    }
    assert billed == {"agents": 5, "admins": 1}


def test_r11_annual_billing_bills_the_year_ahead_once(catalogue: Catalogue) -> None:
    cycle = BillingCycle.of(catalogue, "annual", D(2025, 4, 1))
    changes = [
        ChangeRecord("agents", 0, 5, D(2025, 3, 10)),
        ChangeRecord("admins", 0, 1, D(2025, 3, 10)),
    ]
    assert lines(catalogue, changes, cycle, D(2025, 3, 1)) == [
        (
            "agents",
            LineKind.PRO_RATA,
            5,
            D(2025, 3, 10),
            D(2025, 3, 31),
            Fraction(22, 365),
            "97.64",
        ),
        ("agents", LineKind.ADVANCE, 5, D(2025, 4, 1), D(2026, 3, 31), Fraction(1), "1620.00"),
    ]
    for month in range(4, 13):
        assert lines(catalogue, changes, cycle, D(2025, month, 1)) == []
    assert lines(catalogue, changes, cycle, D(2026, 3, 1)) == [
        ("agents", LineKind.ADVANCE, 5, D(2026, 4, 1), D(2027, 3, 31), Fraction(1), "1620.00")
    ]


def test_r11_increase_then_decrease_by_the_20th_in_one_month(catalogue: Catalogue) -> None:
    changes = [
        *FIVE_AGENTS_SINCE_2024,
        ChangeRecord("agents", 5, 10, D(2025, 1, 5)),
        ChangeRecord("agents", 10, 7, decrease_effective_date(D(2025, 1, 15))),
    ]
    assert lines(catalogue, changes, monthly(catalogue), D(2025, 1, 1)) == [
        ("agents", LineKind.PRO_RATA, 5, D(2025, 1, 5), D(2025, 1, 31), Fraction(27, 31), "130.65"),
        (
            "agents",
            LineKind.PRO_RATA,
            -3,
            D(2025, 1, 15),
            D(2025, 1, 31),
            Fraction(17, 31),
            "-49.35",
        ),
        ("agents", LineKind.ADVANCE, 7, D(2025, 2, 1), D(2025, 2, 28), Fraction(1), "210.00"),
    ]


def test_r11_decrease_after_the_20th_keeps_the_month_as_billed(catalogue: Catalogue) -> None:
    changes = [
        *FIVE_AGENTS_SINCE_2024,
        ChangeRecord("agents", 5, 10, D(2025, 1, 5)),
        ChangeRecord("agents", 10, 7, decrease_effective_date(D(2025, 1, 25))),
    ]
    assert lines(catalogue, changes, monthly(catalogue), D(2025, 1, 1)) == [
        ("agents", LineKind.PRO_RATA, 5, D(2025, 1, 5), D(2025, 1, 31), Fraction(27, 31), "130.65"),
        ("agents", LineKind.ADVANCE, 7, D(2025, 2, 1), D(2025, 2, 28), Fraction(1), "210.00"),
    ]
    # the decrease, effective on the 1st, was in February's advance bill: no adjustment later
    assert [line[1] for line in lines(catalogue, changes, monthly(catalogue), D(2025, 2, 1))] == [
        LineKind.ADVANCE
    ]


@pytest.mark.parametrize(
    ("frequency", "requested", "effective", "last_billed", "first_unbilled"),
    [
        ("monthly", D(2025, 6, 15), D(2025, 7, 1), D(2025, 5, 1), D(2025, 6, 1)),
        ("monthly", D(2028, 2, 29), D(2028, 3, 1), D(2028, 1, 1), D(2028, 2, 1)),
        ("annual", D(2025, 6, 15), D(2026, 1, 1), D(2024, 12, 1), D(2025, 12, 1)),
    ],
)
def test_r12_deactivation_takes_effect_when_the_period_ends(
    catalogue: Catalogue,
    frequency: str,
    requested: dt.date,
    effective: dt.date,
    last_billed: dt.date,
    first_unbilled: dt.date,
) -> None:
    cycle = BillingCycle.of(catalogue, frequency, D(2024, 1, 1))
    assert deactivation_effective_date(requested, cycle) == effective
    assert [
        line[1]
        for line in lines(catalogue, FIVE_AGENTS_SINCE_2024, cycle, last_billed, ends_on=effective)
    ] == [LineKind.ADVANCE]
    assert lines(catalogue, FIVE_AGENTS_SINCE_2024, cycle, first_unbilled, ends_on=effective) == []


def test_r8_ai_bots_are_billed_on_recorded_usage(catalogue: Catalogue) -> None:
    changes = [*FIVE_AGENTS_SINCE_2024, ChangeRecord("ai_assistants", 0, 1, D(2025, 1, 10))]
    usage = [
        UsageRecord("ai_assistants", 600, D(2025, 1, 12)),
        UsageRecord("ai_assistants", 400, D(2025, 1, 31)),
        UsageRecord("ai_assistants", 999, D(2025, 2, 1)),
    ]
    result = invoice_lines(catalogue, changes, monthly(catalogue), D(2025, 1, 1), usage=usage)
    assert result == [
        InvoiceLine(
            "agents",
            LineKind.ADVANCE,
            5,
            D(2025, 2, 1),
            D(2025, 2, 28),
            Fraction(1),
            Decimal("150.00"),
        ),
        InvoiceLine(
            "ai_assistants",
            LineKind.USAGE,
            1000,
            D(2025, 1, 1),
            D(2025, 1, 31),
            Fraction(1),
            Decimal("50.00"),
        ),
    ]


def test_billing_cycle_starts_on_a_first(catalogue: Catalogue) -> None:
    with pytest.raises(ValueError):
        BillingCycle.of(catalogue, "annual", D(2025, 1, 2))
