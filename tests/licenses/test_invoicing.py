"""Billing from stored ledgers (R11, R12) and `ticketbridge billing preview`, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from click.testing import CliRunner
from sqlalchemy.orm import Session

from tests.licenses.helpers import add_license
from ticketbridge.actors import Actor
from ticketbridge.cli import main
from ticketbridge.licenses.billing import LineKind
from ticketbridge.licenses.invoicing import (
    billing_cycle,
    invoice_for,
    invoices_for_month,
    schedule_deactivation,
)
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import License, LicenseState
from ticketbridge.runtime import Runtime

BASIC = {"agents": 5, "admins": 1, "webphone_sessions": 4}


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=10, tzinfo=dt.UTC)


def lines_of(runtime: Runtime, session: Session, token: str, month: str) -> list[tuple]:
    license = session.query(License).filter_by(token=token).one()
    invoice = invoice_for(runtime.catalogue, license, dt.date.fromisoformat(month + "-01"))
    return [
        (
            line.item,
            line.kind,
            line.quantity,
            line.period_start,
            line.period_end,
            line.fraction,
            line.amount,
        )
        for line in invoice.lines
    ]


def test_r11_activation_mid_month_is_prorated_then_billed_in_advance(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        add_license(session, runtime, "SRV-M", at=at("2026-11-10"), entitlements=BASIC)
        november = lines_of(runtime, session, "SRV-M", "2026-11")
    nov10, nov30, dec1, dec31 = (
        dt.date(2026, 11, 10),
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 31),
    )
    assert november == [
        ("agents", LineKind.PRO_RATA, 5, nov10, nov30, Fraction(21, 30), Decimal("105.00")),
        (
            "webphone_sessions",
            LineKind.PRO_RATA,
            4,
            nov10,
            nov30,
            Fraction(21, 30),
            Decimal("11.20"),
        ),
        ("agents", LineKind.ADVANCE, 5, dec1, dec31, Fraction(1), Decimal("150.00")),
        ("webphone_sessions", LineKind.ADVANCE, 4, dec1, dec31, Fraction(1), Decimal("16.00")),
    ]


def test_r11_demo_before_the_paid_start_is_not_billed_and_an_increase_is_charged_pro_rata(
    runtime: Runtime,
) -> None:
    with runtime.db.transaction() as session:
        license = add_license(
            session,
            runtime,
            "SRV-D",
            at=at("2026-10-01"),
            state=LicenseState.TRIAL,
            entitlements=runtime.catalogue.demo_bundle(),
        )
        license.state, license.paid_since, license.plan = (
            LicenseState.ACTIVE,
            at("2026-11-01"),
            "voice",
        )
        apply_changes(
            session,
            license,
            {"agents": 5},
            effective_at=at("2026-11-01"),
            ticket_id=None,
            actor=Actor.staff("t"),
            catalogue=runtime.catalogue,
            paid=True,
        )
        apply_changes(
            session,
            license,
            {"agents": 8},
            effective_at=at("2026-11-16"),
            ticket_id=None,
            actor=Actor.staff("t"),
            catalogue=runtime.catalogue,
            paid=True,
        )
        october = lines_of(runtime, session, "SRV-D", "2026-10")
        november = lines_of(runtime, session, "SRV-D", "2026-11")
    # The trial is never billed; the invoice of 31 October bills the paid November in advance.
    assert {line[1] for line in october} == {LineKind.ADVANCE} and {
        line[3] for line in october
    } == {dt.date(2026, 11, 1)}
    assert ("agents", 5) in [(line[0], line[2]) for line in october]
    assert [line for line in november if line[1] is LineKind.PRO_RATA] == [
        (
            "agents",
            LineKind.PRO_RATA,
            3,
            dt.date(2026, 11, 16),
            dt.date(2026, 11, 30),
            Fraction(15, 30),
            Decimal("45.00"),
        ),
    ]
    advance = {line[0]: line[2] for line in november if line[1] is LineKind.ADVANCE}
    assert advance["agents"] == 8 and "admins" not in advance  # R7: the admin user is included


def test_r11_annual_cycle_is_anchored_on_the_first_after_activation(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        license = add_license(
            session, runtime, "SRV-Y", at=at("2026-03-12"), entitlements=BASIC, frequency="annual"
        )
        assert billing_cycle(runtime.catalogue, license).anchor == dt.date(2026, 4, 1)
        march = lines_of(runtime, session, "SRV-Y", "2026-03")
        april = lines_of(runtime, session, "SRV-Y", "2026-04")
        next_march = lines_of(runtime, session, "SRV-Y", "2027-03")
    assert march[0] == (
        "agents",
        LineKind.PRO_RATA,
        5,
        dt.date(2026, 3, 12),
        dt.date(2026, 3, 31),
        Fraction(20, 365),
        Decimal("88.77"),
    )
    assert (
        "agents",
        LineKind.ADVANCE,
        5,
        dt.date(2026, 4, 1),
        dt.date(2027, 3, 31),
        Fraction(1),
        Decimal("1620.00"),
    ) in march
    assert april == []
    assert next_march[0][1:5] == (LineKind.ADVANCE, 5, dt.date(2027, 4, 1), dt.date(2028, 3, 31))


def test_r12_deactivation_ends_billing_after_the_current_period(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        monthly = add_license(session, runtime, "SRV-X", at=at("2026-09-01"), entitlements=BASIC)
        annual = add_license(
            session, runtime, "SRV-Z", at=at("2026-03-12"), entitlements=BASIC, frequency="annual"
        )
        assert schedule_deactivation(runtime.catalogue, monthly, dt.date(2026, 11, 21)) == dt.date(
            2026, 12, 1
        )
        assert schedule_deactivation(runtime.catalogue, annual, dt.date(2026, 11, 21)) == dt.date(
            2027, 4, 1
        )
        assert lines_of(runtime, session, "SRV-X", "2026-11") == []
        assert lines_of(runtime, session, "SRV-X", "2026-10")[0][1] is LineKind.ADVANCE
        assert lines_of(runtime, session, "SRV-Z", "2027-03") == []


def test_r11_billing_preview_cli_lists_each_paid_license(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        add_license(session, runtime, "SRV-P1", at=at("2026-11-10"), entitlements=BASIC)
        add_license(
            session, runtime, "SRV-P2", at=at("2026-10-01"), entitlements=BASIC, frequency="annual"
        )
        add_license(
            session,
            runtime,
            "SRV-T",
            at=at("2026-11-02"),
            state=LicenseState.TRIAL,
            entitlements=runtime.catalogue.demo_bundle(),
        )
        assert [
            invoice.token
            for invoice in invoices_for_month(session, runtime.catalogue, dt.date(2026, 11, 1))
        ] == ["SRV-P1", "SRV-P2"]
    env = {
        "TICKETBRIDGE_DATABASE_URL": runtime.settings.database_url,
        "TICKETBRIDGE_INSTANCE_PATH": str(runtime.settings.instance_path),
        "TICKETBRIDGE_SECRET_KEY": runtime.settings.secret_key,
    }
    result = CliRunner().invoke(
        main, ["billing", "preview", "--month", "2026-11"], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    assert out[0] == "SRV-P1\tmonthly\ttotal 282.20 EUR (example prices)"
    assert "  agents\tpro_rata\t5\t2026-11-10..2026-11-30\t7/10\t105.00" in out
    assert "SRV-P2\tannual\ttotal 0.00 EUR (example prices)" in out and "SRV-T" not in result.output
    bad = CliRunner().invoke(main, ["billing", "preview", "--month", "2026-13"], env=env)
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
