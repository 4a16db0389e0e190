"""The ledger: one row per changed item, the snapshot kept equal to the ledger, nothing
committed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import ticketbridge.models  # noqa: F401 - registers every table on Base.metadata
from ticketbridge.actors import SYSTEM, Actor
from ticketbridge.db import Base, make_engine
from ticketbridge.errors import RuleViolation
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.ledger import LedgerBroken, apply_changes, replay
from ticketbridge.licenses.models import EntitlementChange, License

WHEN = dt.datetime(2025, 1, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def license(session: Session) -> License:
    row = License(token="TOKEN-1")
    session.add(row)
    session.flush()
    return row


def ledger_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(EntitlementChange)) or 0


def test_r3_demo_bundle_is_written_to_ledger_and_snapshot(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    rows = apply_changes(
        session,
        license,
        catalogue.demo_bundle(),
        effective_at=WHEN,
        ticket_id=None,
        actor=SYSTEM,
        catalogue=catalogue,
        paid=False,
    )
    assert len(rows) == len(catalogue.demo_bundle())
    assert all(r.id is not None and r.old_quantity == 0 and r.actor == SYSTEM for r in rows)
    assert license.entitlements == catalogue.demo_bundle()
    assert replay(license.changes) == license.entitlements


def test_r10_only_changed_items_get_a_ledger_row(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    apply_changes(
        session,
        license,
        catalogue.demo_bundle(),
        effective_at=WHEN,
        ticket_id=None,
        actor=SYSTEM,
        catalogue=catalogue,
        paid=False,
    )
    snapshot_before = license.entitlements
    rows = apply_changes(
        session,
        license,
        {"agents": 8, "admins": 1, "telephones": 1, "botify": 1},
        effective_at=WHEN + dt.timedelta(days=3),
        ticket_id=None,
        actor=Actor.staff("ana"),
        catalogue=catalogue,
        paid=True,
    )
    assert [(r.item, r.old_quantity, r.new_quantity) for r in rows] == [
        ("agents", 3, 8),
        ("botify", 0, 1),
    ]
    assert license.entitlements is not snapshot_before  # a new dict, so SQLAlchemy saves it
    assert license.entitlements == {**catalogue.demo_bundle(), "agents": 8, "botify": 1}
    apply_changes(
        session,
        license,
        {"botify": 0},
        effective_at=WHEN + dt.timedelta(days=5),
        ticket_id=None,
        actor=Actor.staff("ana"),
        catalogue=catalogue,
        paid=True,
    )
    assert "botify" not in license.entitlements  # absent means 0, in snapshot and replay alike
    assert replay(license.changes) == license.entitlements
    session.expire_all()
    reread = session.get(License, license.id)
    assert reread is not None and reread.entitlements == replay(reread.changes)


def test_r7_refused_change_writes_nothing(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    with pytest.raises(RuleViolation) as caught:
        apply_changes(
            session,
            license,
            {"agents": 3, "admins": 1},
            effective_at=WHEN,
            ticket_id=None,
            actor=SYSTEM,
            catalogue=catalogue,
            paid=True,
        )
    assert caught.value.rule == "R7"
    assert ledger_rows(session) == 0 and license.entitlements == {}


def test_r8_ai_agent_assistants_refused_without_ai_assistants(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    apply_changes(
        session,
        license,
        {"agents": 5, "admins": 1},
        effective_at=WHEN,
        ticket_id=None,
        actor=SYSTEM,
        catalogue=catalogue,
        paid=True,
    )
    with pytest.raises(RuleViolation, match="AI Agent Assistants"):
        apply_changes(
            session,
            license,
            {"ai_agent_assistants": 1},
            effective_at=WHEN,
            ticket_id=None,
            actor=SYSTEM,
            catalogue=catalogue,
            paid=True,
        )
    assert ledger_rows(session) == 2


def test_apply_changes_flushes_but_never_commits(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    apply_changes(
        session,
        license,
        {"agents": 5, "admins": 1},
        effective_at=WHEN,
        ticket_id=None,
        actor=SYSTEM,
        catalogue=catalogue,
        paid=True,
    )
    assert session.in_transaction() and ledger_rows(session) == 2
    session.rollback()
    assert ledger_rows(session) == 0


def test_replay_detects_a_ledger_that_contradicts_itself() -> None:
    rows = [
        EntitlementChange(
            id=1,
            item="agents",
            old_quantity=0,
            new_quantity=5,
            effective_at=WHEN,
            actor=Actor.staff("a"),
        ),
        EntitlementChange(
            id=2,
            item="agents",
            old_quantity=6,
            new_quantity=8,
            effective_at=WHEN,
            actor=Actor.staff("a"),
        ),
    ]
    with pytest.raises(LedgerBroken, match="row 2 changes agents from 6"):
        replay(rows)
