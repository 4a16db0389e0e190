"""The billing calendar's named instants (R4, R11, R12): what a workflow's `at:` fires on."""

from __future__ import annotations

import datetime as dt

import pytest

from ticketbridge.errors import Conflict
from ticketbridge.licenses.calendar import CalendarInputs, effective_words, instant
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.models import License


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def paid(since: str, frequency: str = "monthly") -> License:
    return License(token="SRV-CAL", paid_since=utc(since), billing_frequency=frequency)


@pytest.mark.parametrize(
    ("name", "now", "license", "expected"),
    [
        ("first_of_next_month", "2026-11-24 10:00", None, "2026-12-01 00:00"),
        ("first_of_next_month", "2026-12-31 23:59", None, "2027-01-01 00:00"),
        ("decrease_effective_date", "2026-11-20 23:59", None, "2026-11-20 23:59"),
        ("decrease_effective_date", "2026-11-21 00:00", None, "2026-12-01 00:00"),
        ("end_of_billing_period", "2026-11-12 10:00", paid("2026-11-02"), "2026-12-01 00:00"),
        (
            "end_of_billing_period",
            "2026-11-12 10:00",
            paid("2026-03-12", "annual"),
            "2027-04-01 00:00",
        ),
    ],
)
def test_r11_r12_named_instants(
    catalogue: Catalogue, name: str, now: str, license: License | None, expected: str
) -> None:
    assert instant(name, CalendarInputs(utc(now), license, catalogue)) == utc(expected)


def test_r4_license_expiry_and_the_words_the_customer_reads(catalogue: Catalogue) -> None:
    demo = License(token="SRV-CAL", expires_at=utc("2026-12-02 09:00"))
    assert instant("license_expiry", CalendarInputs(utc("2026-11-02 09:00"), demo, catalogue)) == (
        utc("2026-12-02 09:00")
    )
    assert effective_words(utc("2026-12-01 00:00"), utc("2026-11-24 10:00")) == (
        "on 1 December 2026"
    )
    assert effective_words(utc("2026-11-24 10:00"), utc("2026-11-24 10:00")) == "at once"
    with pytest.raises(Conflict, match="needs a license"):
        instant("end_of_billing_period", CalendarInputs(utc("2026-11-02"), None, catalogue))
