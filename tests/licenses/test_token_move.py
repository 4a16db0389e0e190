"""R14 (c): moving a license to a new server token keeps its whole history; the sync API follows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.licenses.helpers import add_license, add_ticket, issue
from ticketbridge.actors import Actor
from ticketbridge.app import create_app
from ticketbridge.errors import Conflict, ValidationError
from ticketbridge.licenses.ledger import replay
from ticketbridge.licenses.models import License, LicenseState, TokenMove
from ticketbridge.licenses.sync import find_license
from ticketbridge.licenses.tokens import move_to_new_token
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def test_r14c_move_keeps_ledger_tickets_and_sync_secret(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-OLD", at=NOW)
        secret = issue(session, runtime, license, now=NOW).sync_secret
        old_ticket = add_ticket(session, license)
        placeholder = License(
            token="SRV-NEW"
        )  # the intake's record of the grace request's new token
        session.add(placeholder)
        session.flush()
        grace_ticket = add_ticket(session, placeholder)
        move = move_to_new_token(
            session,
            license,
            " SRV-NEW ",
            ticket_id=grace_ticket.id,
            actor=Actor.staff("ana"),
            now=NOW,
        )
        ids = license.id, old_ticket.id, grace_ticket.id
    with runtime.db.transaction() as session:
        moved = find_license(session, "SRV-NEW")
        assert moved.id == ids[0] and find_license(session, "SRV-OLD") is None
        assert replay(moved.changes) == moved.entitlements and moved.entitlements["agents"] == 5
        assert {
            t.id for t in session.scalars(select(Ticket).where(Ticket.license_id == moved.id))
        } == set(ids[1:])
        [row] = session.scalars(select(TokenMove)).all()
        assert (row.old_token, row.new_token, row.ticket_id, row.actor) == (
            "SRV-OLD",
            "SRV-NEW",
            ids[2],
            Actor.staff("ana"),
        )
        assert session.scalars(select(License)).all() == [moved]
    assert move.new_token == "SRV-NEW"
    client = create_app(runtime=runtime).test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/licenses/SRV-NEW", headers=headers).get_json()["token"] == "SRV-NEW"
    assert client.get("/api/v1/licenses/SRV-OLD", headers=headers).status_code == 401


def test_r14c_cannot_move_onto_a_token_with_a_license_of_its_own(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-OLD", at=NOW)
        add_license(
            session,
            runtime,
            "SRV-TAKEN",
            at=NOW,
            state=LicenseState.TRIAL,
            entitlements=runtime.catalogue.demo_bundle(),
        )
        with pytest.raises(Conflict, match="already has a license"):
            move_to_new_token(
                session, license, "SRV-TAKEN", ticket_id=None, actor=Actor.staff("ana"), now=NOW
            )
        with pytest.raises(ValidationError):
            move_to_new_token(
                session, license, "SRV-OLD", ticket_id=None, actor=Actor.staff("ana"), now=NOW
            )
