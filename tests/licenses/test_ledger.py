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


def change(
    session: Session,
    license: License,
    catalogue: Catalogue,
    wanted: dict[str, int],
    *,
    at: dt.datetime = WHEN,
    actor: Actor = SYSTEM,
    paid: bool = True,
) -> list[EntitlementChange]:
    """A change with no ticket behind it, as the tests below make them."""
    return apply_changes(
        session,
        license,
        wanted,
        effective_at=at,
        ticket_id=None,
        actor=actor,
        catalogue=catalogue,
        paid=paid,
    )


def test_r3_demo_bundle_is_written_to_ledger_and_snapshot(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    rows = change(session, license, catalogue, catalogue.demo_bundle(), paid=False)
    assert len(rows) == len(catalogue.demo_bundle())
    assert all(r.id is not None and r.old_quantity == 0 and r.actor == SYSTEM for r in rows)
    assert license.entitlements == catalogue.demo_bundle()
    assert replay(license.changes) == license.entitlements


def test_r10_only_changed_items_get_a_ledger_row(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    change(session, license, catalogue, catalogue.demo_bundle(), paid=False)
    snapshot_before = license.entitlements
    rows = change(
        session,
        license,
        catalogue,
        {"agents": 8, "admins": 1, "telephones": 1, "botify": 1},
        at=WHEN + dt.timedelta(days=3),
        actor=Actor.staff("ana"),
    )
    assert [(r.item, r.old_quantity, r.new_quantity) for r in rows] == [
        ("agents", 3, 8),
        ("botify", 0, 1),
    ]
    assert license.entitlements is not snapshot_before  # a new dict, so SQLAlchemy saves it
    assert license.entitlements == {**catalogue.demo_bundle(), "agents": 8, "botify": 1}
    change(
        session,
        license,
        catalogue,
        {"botify": 0},
        at=WHEN + dt.timedelta(days=5),
        actor=Actor.staff("ana"),
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
        change(session, license, catalogue, {"agents": 3, "admins": 1})
    assert caught.value.rule == "R7"
    assert ledger_rows(session) == 0 and license.entitlements == {}


def test_r8_ai_agent_assistants_refused_without_ai_assistants(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    change(session, license, catalogue, {"agents": 5, "admins": 1})
    with pytest.raises(RuleViolation, match="AI Agent Assistants"):
        change(session, license, catalogue, {"ai_agent_assistants": 1})
    assert ledger_rows(session) == 2


def test_apply_changes_flushes_but_never_commits(
    session: Session, license: License, catalogue: Catalogue
) -> None:
    change(session, license, catalogue, {"agents": 5, "admins": 1})
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
