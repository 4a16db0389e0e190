"""The queue's read layer: views with counts, age order, keyset pages, search, and due times
from each state's target with the clock stopped while the customer is asked."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from tests.staff.conftest import APPROVAL_FORM, open_approval, open_request, signed_in
from ticketbridge.clock import utcnow
from ticketbridge.errors import ValidationError
from ticketbridge.runtime import Runtime
from ticketbridge.staff.actions import Staff, act
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.queries import CountsCache, Query, View, queue_counts, queue_page, search

GENERAL = {
    "customer_name": "Cleo Customer",
    "customer_email": "cleo@cust.example",
    "accept_conditions": "on",
    "description": "Question",
}


def _file_some(app: Flask) -> list[str]:
    return [
        open_approval(app),
        open_approval(
            app,
            token="SRV-approval-0002",
            customer_email="zed@other.example",
            customer_name="Zed Industries",
        ),
        open_request(app, "general", GENERAL),
        open_request(app, "demo", {**APPROVAL_FORM, "token": "SRV-demo-1"}),
    ]


def test_views_counts_and_age_order(app: Flask, staff_runtime: Runtime, people) -> None:
    refs = _file_some(app)
    now = utcnow()
    with staff_runtime.db.transaction() as session:
        counts = queue_counts(session, me=people["ann"], now=now)
        staff_view = queue_page(session, Query(View.STAFF), me=people["ann"], now=now)
        closed = queue_page(session, Query(View.CLOSED), me=None, now=now)
        by_type = queue_page(session, Query(View.TYPE, request_type="approval"), me=None, now=now)
    assert [row.reference for row in staff_view.rows] == refs[:3]
    assert counts.views[View.STAFF] == 3 and counts.views[View.UNASSIGNED] == 3
    assert counts.views[View.CLOSED] == 1 and counts.views[View.MINE] == 0
    assert counts.by_type == {"approval": 2, "general": 1}
    assert counts.by_state[("approval", "admin_check")] == 2
    assert [row.reference for row in closed.rows] == [refs[3]]
    assert [row.reference for row in by_type.rows] == refs[:2]


def test_keyset_pages_cover_every_ticket_once(app: Flask, staff_runtime: Runtime, people) -> None:
    refs = [open_request(app, "general", GENERAL) for _ in range(5)]
    seen, after = [], None
    with staff_runtime.db.transaction() as session:
        while True:
            page = queue_page(
                session, Query(View.STAFF, after=after, limit=2), me=None, now=utcnow()
            )
            seen += [row.reference for row in page.rows]
            if page.next_after is None:
                break
            after = page.next_after
    assert seen == refs


def test_a_forged_page_marker_is_a_field_error(staff_runtime: Runtime) -> None:
    with staff_runtime.db.transaction() as session:
        with pytest.raises(ValidationError) as caught:
            queue_page(session, Query(View.STAFF, after="bm90IGpzb24"), me=None, now=utcnow())
    assert caught.value.field == "after"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LIC-000002", [1]),
        ("lic-000002", [1]),
        ("SRV-approval-0001", [0]),
        ("srv-APPROVAL-0001", [0]),
        ("zed", [1]),
        ("CLEO@cust", [2]),
        ("acme contact", [3, 0]),
        ("%", []),
        ("nobody", []),
    ],
)
def test_search_by_reference_token_name_or_email(
    app: Flask, staff_runtime: Runtime, people, text: str, expected: list[int]
) -> None:
    refs = _file_some(app)
    with staff_runtime.db.transaction() as session:
        found = [row.reference for row in search(session, text)]
    assert found == [refs[i] for i in expected]


def test_due_clock_stops_while_waiting_on_the_customer(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_approval(app)
    ticket_id = Ticket.id_from_reference(reference)
    agent = Staff(people["ann"], "Ann Agent", "ann@team.example", "agent")
    with staff_runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        opened, due_at = ticket.created_at, ticket.due_at
    assert due_at == opened + dt.timedelta(days=1)

    asked = opened + dt.timedelta(hours=6)
    with staff_runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        act(session, staff_runtime, ticket, agent, "ask_log", {}, now=asked)
        assert (ticket.due_at, ticket.due_paused_seconds) == (None, 18 * 3600)
    answered = asked + dt.timedelta(days=3)
    with staff_runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, ticket_id)
        staff_runtime.engine.customer_replied(session, ticket, now=answered)
        assert ticket.state == "admin_check"
        assert ticket.due_at == answered + dt.timedelta(hours=18)
    with staff_runtime.db.transaction() as session:
        overdue_then = queue_page(
            session, Query(View.OVERDUE), me=None, now=answered + dt.timedelta(hours=19)
        )
        not_yet = queue_page(
            session, Query(View.OVERDUE), me=None, now=answered + dt.timedelta(hours=17)
        )
    assert [row.reference for row in overdue_then.rows] == [reference]
    assert not_yet.rows == []


def test_queue_page_shows_labels_due_and_shortcut_script(app: Flask, people) -> None:
    reference = open_approval(app)
    page = signed_in(app, "ann@team.example").get("/staff/").text
    assert reference in page
    assert 'class="label waiting-staff">waiting on staff</span>' in page
    assert "left</span>" in page and "<time datetime=" in page
    assert "staff.js" in page and "<script>" not in page


def test_an_unknown_view_is_404(app: Flask, people) -> None:
    assert signed_in(app, "ann@team.example").get("/staff/?view=everything").status_code == 404


def test_mine_after_a_claim(app: Flask, staff_runtime: Runtime, people) -> None:
    reference = open_approval(app)
    client = signed_in(app, "ann@team.example")
    page = client.get(f"/staff/tickets/{reference}").text
    version = page.split('name="row_version" value="')[1].split('"')[0]
    client.post(
        f"/staff/tickets/{reference}/assign", data={"assignee": "me", "row_version": version}
    )
    with staff_runtime.db.transaction() as session:
        mine = queue_page(session, Query(View.MINE), me=people["ann"], now=utcnow())
        theirs = queue_page(session, Query(View.MINE), me=people["bob"], now=utcnow())
        assert session.scalar(select(Ticket.assignee_id)) == people["ann"]
    assert [row.reference for row in mine.rows] == [reference] and theirs.rows == []
    assert mine.rows[0].assignee_name == "Ann Agent"


def test_the_closed_count_stops_at_its_cap(
    app: Flask, staff_runtime: Runtime, people, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ticketbridge.tickets.queries as queries

    monkeypatch.setattr(queries, "CLOSED_COUNT_CAP", 2)
    for token in ("SRV-demo-1", "SRV-demo-2", "SRV-demo-3"):
        open_request(app, "demo", {**APPROVAL_FORM, "token": token})
    with staff_runtime.db.transaction() as session:
        counts = queue_counts(session, me=None, now=utcnow())
    assert counts.views[View.CLOSED] == 2 and counts.shown(View.CLOSED) == "2+"
    assert counts.shown(View.STAFF) == "0"
    page = signed_in(app, "ann@team.example").get("/staff/").text
    assert 'Closed <span class="count">2+</span>' in page


def test_counts_are_reused_for_a_while_and_give_each_person_their_own_mine(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    first = open_approval(app)
    with staff_runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, Ticket.id_from_reference(first))
        ticket.assignee_id = people["ann"]
    kept, fresh = CountsCache(seconds=3600), CountsCache(seconds=0)
    now = utcnow()
    with staff_runtime.db.transaction() as session:
        assert queue_counts(session, me=people["ann"], now=now, cache=kept).views[View.MINE] == 1
        assert queue_counts(session, me=people["ann"], now=now, cache=fresh).views[View.STAFF] == 1
    open_request(app, "general", GENERAL)
    with staff_runtime.db.transaction() as session:
        reused = queue_counts(session, me=people["ada"], now=now, cache=kept)
        recounted = queue_counts(session, me=people["ada"], now=now, cache=fresh)
    assert reused.views[View.STAFF] == 1 and reused.views[View.MINE] == 0
    assert reused.views[View.UNASSIGNED] == 0
    assert recounted.views[View.STAFF] == 2 and recounted.views[View.UNASSIGNED] == 1
