"""Staff actions carry the account's id from the sign-in session and from the API token, so the
timeline keeps naming the person after a rename, a new address or a disabled account; rows
written with an address are migrated to the id."""

from __future__ import annotations

import importlib
import re

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import String, column, insert, select, table

from tests.staff.conftest import open_request, signed_in
from ticketbridge.actors import Actor
from ticketbridge.db import make_engine
from ticketbridge.runtime import Runtime
from ticketbridge.staff.accounts import disable_staff, get_staff, issue_api_token
from ticketbridge.staff.models import StaffUser
from ticketbridge.tickets.models import Ticket, TicketEvent

GENERAL = {
    "customer_name": "Bo",
    "customer_email": "bo@cust.example",
    "accept_conditions": "on",
    "description": "Please help",
}
MIGRATION = "ticketbridge.migrations.versions.7c41d2e9f0a3_staff_actors_by_account_id"


def _version(page: str) -> str:
    match = re.search(r'name="row_version" value="(\d+)"', page)
    assert match, page
    return match.group(1)


def _actors(runtime: Runtime, reference: str, kind: str) -> list[Actor]:
    with runtime.db.transaction() as session:
        return list(
            session.scalars(
                select(TicketEvent.actor).where(
                    TicketEvent.ticket_id == Ticket.id_from_reference(reference),
                    TicketEvent.kind == kind,
                )
            )
        )


def test_a_renamed_or_disabled_account_keeps_its_history(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_request(app, "general", GENERAL)
    agent = signed_in(app, "ann@team.example")
    page = agent.get(f"/staff/tickets/{reference}").text
    agent.post(
        f"/staff/tickets/{reference}/notes",
        data={"note": "Checked the logs", "row_version": _version(page)},
    )
    assert _actors(staff_runtime, reference, "note") == [Actor.staff_account(people["ann"])]

    with staff_runtime.db.transaction() as session:
        ann = session.get_one(StaffUser, people["ann"])
        ann.name, ann.email = "Ann Married-Name", "ann.m@team.example"
    admin = signed_in(app, "ada@team.example")
    timeline = admin.get(f"/staff/tickets/{reference}").text.split('class="timeline"')[1]
    assert "Ann Married-Name" in timeline

    with staff_runtime.db.transaction() as session:
        disable_staff(session, "ann.m@team.example")
    timeline = admin.get(f"/staff/tickets/{reference}").text.split('class="timeline"')[1]
    assert "Ann Married-Name" in timeline


def test_an_api_action_carries_the_token_holders_account(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_request(app, "general", GENERAL)
    with staff_runtime.db.transaction() as session:
        token = issue_api_token(get_staff(session, "bob@team.example"))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    ticket = client.get(f"/api/v1/tickets/{reference}", headers=headers).get_json()
    done = client.post(
        f"/api/v1/tickets/{reference}/actions/close",
        headers=headers,
        json={"fields": {}, "row_version": ticket["row_version"]},
    )
    assert done.status_code == 200, done.get_json()
    assert Actor.staff_account(people["bob"]) in _actors(staff_runtime, reference, "transition")
    timeline = done.get_json()["timeline"]
    assert {"actor": f"staff:{people['bob']}", "actor_name": "Bob Agent"} in [
        {"actor": event["actor"], "actor_name": event["actor_name"]} for event in timeline
    ]
    assert timeline[0]["actor_name"] == "customer:bo@cust.example"


def _run_migration(url: str, direction: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            getattr(importlib.import_module(MIGRATION), direction)()
    engine.dispose()


def test_rows_written_with_an_address_move_to_the_account_id_and_back(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_request(app, "general", GENERAL)
    ticket_id = Ticket.id_from_reference(reference)
    old_rows = ["staff:Ann@Team.example", "staff:gone@team.example", "admin:cli"]
    with staff_runtime.db.transaction() as session:
        for actor in old_rows:
            session.execute(
                insert(TicketEvent).values(
                    ticket_id=ticket_id, actor=actor, kind="note", summary="old", payload={}
                )
            )
    events = table("ticket_events", column("id"), column("kind"), column("actor", String))
    query = select(events.c.actor).where(events.c.kind == "note").order_by(events.c.id)

    _run_migration(staff_runtime.settings.database_url, "upgrade")
    with staff_runtime.db.transaction() as session:
        stored = list(session.scalars(query))
        notes = select(TicketEvent.actor).where(TicketEvent.kind == "note")
        actors = session.scalars(notes.order_by(TicketEvent.id))
        assert [actor.account_id for actor in actors] == [people["ann"], None, None]
    assert stored == [f"staff:{people['ann']}", "staff:gone@team.example", "admin:cli"]
    page = signed_in(app, "ada@team.example").get(f"/staff/tickets/{reference}").text
    assert "Ann Agent" in page.split('class="timeline"')[1]

    _run_migration(staff_runtime.settings.database_url, "downgrade")
    with staff_runtime.db.transaction() as session:
        stored = list(session.scalars(query))
    assert stored == ["staff:ann@team.example", "staff:gone@team.example", "admin:cli"]
