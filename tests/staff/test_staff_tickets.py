"""Working a ticket from the staff pages: actions with the fields the workflow asks for, the
change preview computed by the code that applies it, stale pages, notes, replies, assignment."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select

from tests.staff.conftest import open_approval, open_request, signed_in
from ticketbridge.actors import Actor
from ticketbridge.licenses.models import EntitlementChange, License
from ticketbridge.outbox.models import OutboxEmail
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket, TicketEvent


def _version(page: str) -> str:
    match = re.search(r'name="row_version" value="(\d+)"', page)
    assert match, page
    return match.group(1)


def _ticket(runtime: Runtime, reference: str) -> Ticket:
    with runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, Ticket.id_from_reference(reference))
        session.expunge(ticket)
        return ticket


def test_the_change_preview_shows_what_approval_will_do_and_writes_nothing(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_approval(app)
    admin = signed_in(app, "ada@team.example")
    page = admin.get(f"/staff/tickets/{reference}/actions/approve").text
    assert "What this will change on license SRV-approval-0001" in page
    assert "not active → <strong>active</strong>" in page
    assert "yes, a new key is issued" in page
    assert re.search(r"<td>agents</td><td>0</td><td>3</td>", page)
    assert "on the " in page and " invoice" in page
    with staff_runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(EntitlementChange)) == 0
        # Only the request's receipt (R19); the preview queued nothing.
        assert session.scalars(select(OutboxEmail.template)).all() == ["general_received"]
        license = session.scalars(select(License)).one()
        assert license.license_key is None and license.entitlements == {}
    assert _ticket(staff_runtime, reference).state == "admin_check"


def test_confirming_applies_once_and_a_stale_page_is_told(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_approval(app)
    first, second = signed_in(app, "ada@team.example"), signed_in(app, "ann@team.example")
    stale = second.get(f"/staff/tickets/{reference}").text
    assert "Also open by" not in stale
    assert "Ann Agent" in first.get(f"/staff/tickets/{reference}").text  # presence

    preview = first.get(f"/staff/tickets/{reference}/actions/approve").text
    done = first.post(
        f"/staff/tickets/{reference}/actions/approve",
        data={"intent": "confirm", "row_version": _version(preview), "comment": "checked"},
    )
    assert done.status_code == 303
    assert _ticket(staff_runtime, reference).state == "approved"

    late = second.post(
        f"/staff/tickets/{reference}/notes", data={"row_version": _version(stale), "note": "x"}
    )
    assert late.status_code == 409
    assert "changed after you opened it" in late.text
    assert "Ada Admin" in late.text
    again = first.post(
        f"/staff/tickets/{reference}/actions/approve",
        data={"intent": "confirm", "row_version": _version(preview), "comment": "twice"},
    )
    assert again.status_code == 409
    with staff_runtime.db.transaction() as session:
        transitions = session.scalars(
            select(TicketEvent).where(
                TicketEvent.kind == "transition", TicketEvent.actor.like("staff:%")
            )
        ).all()
        notes = session.scalar(select(func.count()).where(TicketEvent.kind == "note"))
    assert [e.actor for e in transitions] == [Actor.staff_account(people["ada"])]
    assert transitions[0].payload["fields"] == {"comment": "checked"}
    assert notes == 0


def test_an_action_asks_for_its_required_fields(app: Flask, staff_runtime: Runtime, people) -> None:
    reference = open_approval(app)
    agent = signed_in(app, "ann@team.example")
    form = agent.get(f"/staff/tickets/{reference}/actions/refuse")
    assert form.status_code == 200 and 'name="reason"' in form.text and "Preview" in form.text
    missing = agent.post(f"/staff/tickets/{reference}/actions/refuse", data={"intent": "preview"})
    assert missing.status_code == 422
    assert "Reason is required" in missing.text
    assert _ticket(staff_runtime, reference).state == "admin_check"


def test_an_agent_cannot_take_an_admin_action(app: Flask, staff_runtime: Runtime, people) -> None:
    reference = open_approval(app)
    agent = signed_in(app, "ann@team.example")
    page = agent.get(f"/staff/tickets/{reference}").text
    assert "Approve the administrative check" not in page
    response = agent.post(
        f"/staff/tickets/{reference}/actions/approve",
        data={"intent": "confirm", "row_version": _version(page)},
    )
    assert response.status_code == 403
    assert "needs the admin role" in response.text


def test_notes_replies_and_claims_name_the_person(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_request(
        app,
        "general",
        {
            "customer_name": "Bo",
            "customer_email": "bo@cust.example",
            "accept_conditions": "on",
            "description": "Please help",
        },
    )
    agent = signed_in(app, "ann@team.example")
    page = agent.get(f"/staff/tickets/{reference}").text
    assert (
        agent.post(
            f"/staff/tickets/{reference}/assign",
            data={"assignee": "me", "row_version": _version(page)},
        ).status_code
        == 303
    )
    page = agent.get(f"/staff/tickets/{reference}").text
    agent.post(
        f"/staff/tickets/{reference}/notes",
        data={"note": "Checked the logs", "row_version": _version(page)},
    )
    page = agent.get(f"/staff/tickets/{reference}").text
    reply = agent.post(
        f"/staff/tickets/{reference}/reply",
        data={"reply": "Here is the answer.", "row_version": _version(page)},
    )
    assert reply.status_code == 303
    page = agent.get(f"/staff/tickets/{reference}").text
    assert "Claimed by Ann Agent" in page
    assert "Internal note by Ann Agent" in page and "Checked the logs" in page
    assert "Reply to the customer by Ann Agent" in page
    with staff_runtime.db.transaction() as session:
        email = session.scalars(
            select(OutboxEmail).where(OutboxEmail.template == "staff_reply")
        ).one()
        assert b"Here is the answer." in email.raw
    customer_page = (
        app.test_client()
        .get(
            staff_runtime.links.ticket_url(Ticket.id_from_reference(reference)).removeprefix(
                "http://tickets.test"
            )
        )
        .text
    )
    assert "Checked the logs" not in customer_page


def test_an_empty_note_is_a_field_error(app: Flask, people) -> None:
    reference = open_approval(app)
    agent = signed_in(app, "ann@team.example")
    page = agent.get(f"/staff/tickets/{reference}").text
    response = agent.post(
        f"/staff/tickets/{reference}/notes", data={"note": "  ", "row_version": _version(page)}
    )
    assert response.status_code == 422
    assert "write the note first" in response.text
