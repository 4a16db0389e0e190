"""Admin workflow pages: the picture as SVG, the editor that shows each error at its line, the
replay of closed tickets against a draft, and publishing it as a new version."""

from __future__ import annotations

from flask import Flask

from tests.staff.conftest import open_request, signed_in
from ticketbridge.services import Services
from ticketbridge.tickets.models import Ticket
from ticketbridge.workflow.svg import render_svg

GENERAL = {
    "customer_name": "Gus",
    "customer_email": "gus@cust.example",
    "accept_conditions": "on",
    "description": "Please close me",
}


def _close(app: Flask, admin, reference: str) -> None:
    page = admin.get(f"/staff/tickets/{reference}").text
    version = page.split('name="row_version" value="')[1].split('"')[0]
    response = admin.post(
        f"/staff/tickets/{reference}/actions/close",
        data={"intent": "confirm", "row_version": version},
    )
    assert response.status_code == 303, response.text


def test_the_state_machine_is_an_svg_naming_every_state(staff_services: Services) -> None:
    svg = str(render_svg(staff_services.workflows.current("approval")))
    assert svg.startswith("<svg") and "<script" not in svg
    for name in ("admin_check", "waiting_customer", "approved", "refused", "ask_log"):
        assert f">{name}<" in svg


def test_a_broken_draft_shows_each_error_at_its_line(app: Flask, people) -> None:
    admin = signed_in(app, "ada@team.example")
    source = admin.get("/staff/admin/workflows/general/edit").text
    assert "Workflow YAML" in source
    broken = (
        "name: general\ntitle: General\ninitial: nowhere\nstates:\n  received:\n"
        "    waits_on: staff\n    outcome: completed\ntransitions: []\n"
    )
    response = admin.post(
        "/staff/admin/workflows/general/edit", data={"intent": "check", "source": broken}
    )
    assert response.status_code == 422
    assert "line 3, column" in response.text and "nowhere" in response.text
    assert 'id="line-3" class="bad-line"' in response.text


def test_a_valid_draft_is_replayed_then_published(
    app: Flask, staff_services: Services, people
) -> None:
    admin = signed_in(app, "ada@team.example")
    references = [open_request(app, "general", GENERAL) for _ in range(2)]
    for reference in references:
        _close(app, admin, reference)
    source = staff_services.workflows.current("general").source
    draft = source.replace("    label: Close\n", "    label: Close\n    role: admin\n").replace(
        "  resolved:\n    outcome: completed", "  resolved:\n    outcome: rejected"
    )
    assert draft != source
    checked = admin.post(
        "/staff/admin/workflows/general/edit", data={"intent": "check", "source": draft}
    )
    assert checked.status_code == 200, checked.text
    assert "2 would end differently" in checked.text
    assert "resolved (completed)" in checked.text and "resolved (rejected)" in checked.text
    published = admin.post(
        "/staff/admin/workflows/general/edit", data={"intent": "publish", "source": draft}
    )
    assert published.status_code == 303
    assert staff_services.workflows.current("general").source == draft
    page = admin.get("/staff/admin/workflows/general").text
    assert "Published general version" in page
    new = open_request(app, "general", GENERAL)
    with staff_services.db.transaction() as session:
        ticket = session.get_one(Ticket, Ticket.id_from_reference(new))
        old = session.get_one(Ticket, Ticket.id_from_reference(references[0]))
        assert ticket.workflow_version == staff_services.workflows.current("general").version
        assert old.workflow_version != ticket.workflow_version
