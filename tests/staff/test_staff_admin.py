"""Admin pages: staff accounts, failed emails retried from the outbox, mail on no ticket."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tests.staff.conftest import open_approval, signed_in
from ticketbridge.clock import utcnow
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.runtime import Runtime
from ticketbridge.staff import accounts


def test_an_admin_creates_and_disables_an_account(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    admin = signed_in(app, "ada@team.example")
    short = admin.post(
        "/staff/admin/staff",
        data={"name": "Cy", "email": "cy@team.example", "password": "short", "role": "agent"},
    )
    assert short.status_code == 422 and "use 12 to 1024 characters" in short.text
    created = admin.post(
        "/staff/admin/staff",
        data={"name": "Cy", "email": "cy@team.example", "password": "x" * 14, "role": "agent"},
    )
    assert created.status_code == 303
    with staff_runtime.db.transaction() as session:
        cy = accounts.get_staff(session, "cy@team.example")
    admin.post(f"/staff/admin/staff/{cy.id}/disable")
    with staff_runtime.db.transaction() as session:
        assert not accounts.get_staff(session, "cy@team.example").active
    page = admin.get("/staff/admin/staff").text
    assert "disabled" in page and "Disable Ada Admin" not in page


def test_a_failed_email_is_shown_with_its_error_and_retried(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_approval(app)
    admin = signed_in(app, "ada@team.example")
    page = admin.get(f"/staff/tickets/{reference}").text
    version = page.split('name="row_version" value="')[1].split('"')[0]
    admin.post(f"/staff/tickets/{reference}/reply", data={"reply": "Hi", "row_version": version})
    with staff_runtime.db.transaction() as session:
        email = session.scalars(select(OutboxEmail)).one()
        email.status, email.last_error = OutboxStatus.FAILED, "550 5.1.1 No such user"
        email_id = email.id
    outbox = admin.get("/staff/admin/outbox").text
    assert "550 5.1.1 No such user" in outbox and reference in outbox
    assert admin.post(f"/staff/admin/outbox/{email_id}/retry").status_code == 303
    with staff_runtime.db.transaction() as session:
        email = session.get_one(OutboxEmail, email_id)
        assert email.status is OutboxStatus.SENT
        assert email.sent_at is not None and email.sent_at <= utcnow()
    assert "Email to ops@acme.example queued again" in admin.get(f"/staff/tickets/{reference}").text


def test_admin_pages_list_mail_on_no_ticket_and_are_admin_only(app: Flask, people) -> None:
    agent, admin = signed_in(app, "ann@team.example"), signed_in(app, "ada@team.example")
    for path in ("/staff/admin/staff", "/staff/admin/outbox", "/staff/admin/mail"):
        assert agent.get(path).status_code == 403
        assert admin.get(path).status_code == 200
    assert "Mail that opened no ticket" in admin.get("/staff/admin/mail").text
