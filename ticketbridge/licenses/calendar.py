"""The billing calendar as named instants: what a workflow timer may say after `at:`.

Timers on licenses follow the billing rules, not a count of days: "on the 1st of next month"
(R11), "when the billing period ends" (R12), "on the R11 decrease date". Each name here is one
function of the moment the timer is armed and the ticket's license, built on `billing.py` so
the date a timer fires and the date billing uses are the same date. The workflow loader
accepts only these names (an unknown one is a load error with file:line:column) and an
optional offset: `license_expiry - 7d`.

Instants are midnight UTC of the day they name: a change "on 1 December" takes effect at the
first moment of that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ticketbridge.errors import Conflict
from ticketbridge.licenses.billing import (
    deactivation_effective_date,
    decrease_effective_date,
    last_day_of_month,
)
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.invoicing import billing_cycle
from ticketbridge.licenses.models import License


@dataclass(frozen=True)
class CalendarInputs:
    """What an instant is computed from: the moment the timer is armed and the ticket's
    license."""

    now: dt.datetime
    license: License | None
    catalogue: Catalogue

    def paid_license(self, name: str) -> License:
        if self.license is None:
            raise Conflict(f"the timer {name!r} needs a license, and the ticket names none")
        return self.license


@dataclass(frozen=True)
class NamedInstant:
    name: str
    description: str
    compute: Callable[[CalendarInputs], dt.datetime]


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _first_of_next_month(inputs: CalendarInputs) -> dt.datetime:
    return midnight(last_day_of_month(inputs.now.date()) + dt.timedelta(days=1))


def _decrease_date(inputs: CalendarInputs) -> dt.datetime:
    day = decrease_effective_date(inputs.now.date())
    return inputs.now if day == inputs.now.date() else midnight(day)


def _end_of_billing_period(inputs: CalendarInputs) -> dt.datetime:
    license = inputs.paid_license("end_of_billing_period")
    if license.billing_ends_on is not None:
        return midnight(license.billing_ends_on)
    cycle = billing_cycle(inputs.catalogue, license)
    return midnight(deactivation_effective_date(inputs.now.date(), cycle))


def _license_expiry(inputs: CalendarInputs) -> dt.datetime:
    license = inputs.paid_license("license_expiry")
    if license.expires_at is None:
        raise Conflict(f"server token {license.token} has no expiry date")
    expiry = license.expires_at
    return expiry if expiry.tzinfo else expiry.replace(tzinfo=dt.UTC)


INSTANTS: Mapping[str, NamedInstant] = {
    i.name: i
    for i in (
        NamedInstant(
            "first_of_next_month",
            "the 1st of the month after the timer is armed (R11)",
            _first_of_next_month,
        ),
        NamedInstant(
            "decrease_effective_date",
            "R11's cut-off: at once when armed by the 20th, else the 1st of next month",
            _decrease_date,
        ),
        NamedInstant(
            "end_of_billing_period",
            "the end of the license's current billing period (R12)",
            _end_of_billing_period,
        ),
        NamedInstant(
            "license_expiry",
            "when the license expires (a demo: 30 days after activation, R4)",
            _license_expiry,
        ),
    )
}


def instant(name: str, inputs: CalendarInputs) -> dt.datetime:
    return INSTANTS[name].compute(inputs)


def effective_words(when: dt.datetime, now: dt.datetime) -> str:
    """How the customer's page says a date: "at once" when it is now, else "on 1 December 2026"."""
    if when <= now:
        return "at once"
    return f"on {when.day} {when:%B %Y}"
