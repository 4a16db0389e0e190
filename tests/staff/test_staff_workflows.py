"""Admin workflow pages: the picture as SVG, the editor that shows each error at its line, the
replay of closed tickets against a draft, and publishing it as a new version."""

from __future__ import annotations

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from tests.fixtures.backends import wait_until
from tests.staff.conftest import open_request, signed_in
from ticketbridge.cli import main
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket
from ticketbridge.workflow.models import WorkflowVersion
from ticketbridge.workflow.svg import render_svg

GENERAL = {
    "customer_name": "Gus",
    "customer_email": "gus@cust.example",
    "accept_conditions": "on",
    "description": "Please close me",
}


def finished_run(client, response) -> str:
    """Follow a started run to its page and wait (polling, as the page's refresh does) until it
    is no longer running; returns the page."""
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    assert "/staff/admin/runs/" in location

    def ended() -> str | None:
        page = client.get(location).text
        return None if 'data-status="running"' in page else page

    return str(wait_until(ended, timeout=120, what=f"the run at {location}"))


def _close(app: Flask, admin, reference: str) -> None:
    page = admin.get(f"/staff/tickets/{reference}").text
    version = page.split('name="row_version" value="')[1].split('"')[0]
    response = admin.post(
        f"/staff/tickets/{reference}/actions/close",
        data={"intent": "confirm", "row_version": version},
    )
    assert response.status_code == 303, response.text


def test_the_state_machine_is_an_svg_naming_every_state(staff_runtime: Runtime) -> None:
    svg = str(render_svg(staff_runtime.workflows.current("approval")))
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
    app: Flask, staff_runtime: Runtime, people
) -> None:
    admin = signed_in(app, "ada@team.example")
    references = [open_request(app, "general", GENERAL) for _ in range(2)]
    for reference in references:
        _close(app, admin, reference)
    source = staff_runtime.workflows.current("general").source
    draft = source.replace("    label: Close\n", "    label: Close\n    role: admin\n").replace(
        "  resolved:\n    outcome: completed", "  resolved:\n    outcome: rejected"
    )
    assert draft != source
    with staff_runtime.db.transaction() as session:
        versions = session.scalar(select(func.count()).select_from(WorkflowVersion))
    checked = finished_run(
        admin,
        admin.post(
            "/staff/admin/workflows/general/edit", data={"intent": "check", "source": draft}
        ),
    )
    assert 'data-status="finished"' in checked, checked
    assert "4 of 4 runs" in checked
    assert "2 would end differently" in checked
    assert "resolved (completed)" in checked and "resolved (rejected)" in checked
    with staff_runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(WorkflowVersion)) == versions
    published = admin.post(
        "/staff/admin/workflows/general/edit", data={"intent": "publish", "source": draft}
    )
    assert published.status_code == 303
    staff_runtime.workflows.refresh()
    assert staff_runtime.workflows.current("general").source == draft
    page = admin.get("/staff/admin/workflows/general").text
    assert "Published general version" in page
    new = open_request(app, "general", GENERAL)
    with staff_runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, Ticket.id_from_reference(new))
        old = session.get_one(Ticket, Ticket.id_from_reference(references[0]))
        assert ticket.workflow_version == staff_runtime.workflows.current("general").version
        assert old.workflow_version != ticket.workflow_version


def test_open_tickets_move_to_a_new_version_by_a_previewed_state_map(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    admin = signed_in(app, "ada@team.example")
    reference = open_request(app, "general", GENERAL)
    page = admin.get(f"/staff/tickets/{reference}").text
    version = page.split('name="row_version" value="')[1].split('"')[0]
    admin.post(
        f"/staff/tickets/{reference}/actions/ask_customer",
        data={"intent": "confirm", "row_version": version},
    )
    old_version = staff_runtime.workflows.current("general").version
    draft = staff_runtime.workflows.current("general").source.replace("waiting_customer", "asked")
    assert (
        admin.post(
            "/staff/admin/workflows/general/edit", data={"intent": "publish", "source": draft}
        ).status_code
        == 303
    )

    form = {"from_version": old_version, "map-waiting_customer": "asked"}
    preview = finished_run(
        admin,
        admin.post("/staff/admin/workflows/general/migrate", data={**form, "intent": "preview"}),
    )
    assert "1 of 1 tickets" in preview and "nothing is written yet" in preview
    assert f"{reference}: waiting_customer → asked" in preview
    with staff_runtime.db.transaction() as session:
        assert session.get_one(Ticket, Ticket.id_from_reference(reference)).state == (
            "waiting_customer"
        )
    unmapped = admin.post(
        "/staff/admin/workflows/general/migrate",
        data={"from_version": old_version, "map-waiting_customer": "", "intent": "preview"},
    )
    assert unmapped.status_code != 200 and "is not a state of version" in unmapped.text
    run_id = preview.split('action="/staff/admin/runs/')[1].split("/")[0]
    done = finished_run(admin, admin.post(f"/staff/admin/runs/{run_id}/confirm"))
    assert "Moved 1 ticket(s) to version" in done
    again = admin.post(f"/staff/admin/runs/{run_id}/confirm")
    assert again.status_code == 409 and "only a finished preview can be applied" in again.text
    with staff_runtime.db.transaction() as session:
        ticket = session.get_one(Ticket, Ticket.id_from_reference(reference))
        assert (ticket.state, ticket.workflow_version) == (
            "asked",
            staff_runtime.workflows.current("general").version,
        )


def test_cli_replay_shows_progress_and_the_differences(
    app: Flask, staff_runtime: Runtime, people, tmp_path
) -> None:
    admin = signed_in(app, "ada@team.example")
    _close(app, admin, open_request(app, "general", GENERAL))
    draft = tmp_path / "general.yaml"
    draft.write_text(
        staff_runtime.workflows.current("general").source.replace(
            "  resolved:\n    outcome: completed", "  resolved:\n    outcome: rejected"
        )
    )
    settings = staff_runtime.settings
    env = {
        "TICKETBRIDGE_INSTANCE_PATH": str(settings.instance_path),
        "TICKETBRIDGE_DATABASE_URL": settings.database_url,
        "TICKETBRIDGE_WORKFLOWS_PATH": str(settings.workflows_path),
        "TICKETBRIDGE_SECRET_KEY": settings.secret_key,
    }
    result = CliRunner().invoke(main, ["workflows", "replay", "general", str(draft)], env=env)
    assert result.exit_code == 0, result.output
    assert "replayed 2/2" in result.output
    assert "resolved (completed)\t→ resolved (rejected)" in result.output
    assert "1 of 1 ticket(s) would end differently" in result.output
