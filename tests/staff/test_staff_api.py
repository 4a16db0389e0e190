"""The staff JSON API: bearer tokens only, the queue views, a ticket with its open actions, and
actions checked like the page's (role, fields, stale row_version), naming the person."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.staff.conftest import open_approval
from ticketbridge.runtime import Runtime
from ticketbridge.staff.accounts import get_staff, issue_api_token


def _token(runtime: Runtime, email: str) -> dict[str, str]:
    with runtime.db.transaction() as session:
        return {"Authorization": f"Bearer {issue_api_token(get_staff(session, email))}"}


def _client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_without_a_valid_token_every_endpoint_is_401(app: Flask, staff_runtime, people) -> None:
    client = _client(app)
    for headers in ({}, {"Authorization": "Bearer tbs_forged"}, {"Authorization": "Basic x"}):
        for method, path in (
            ("get", "/api/v1/tickets"),
            ("get", "/api/v1/tickets/LIC-000001"),
            ("post", "/api/v1/tickets/LIC-000001/actions/approve"),
        ):
            response = getattr(client, method)(path, headers=headers, json={})
            assert response.status_code == 401, (path, headers)
            assert "staff api-token" in response.get_json()["error"]["message"]


def test_queue_ticket_and_an_action_through_the_api(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    reference = open_approval(app)
    client, admin = _client(app), _token(staff_runtime, "ada@team.example")
    queue = client.get("/api/v1/tickets?view=staff", headers=admin).get_json()
    assert [t["reference"] for t in queue["tickets"]] == [reference]
    assert queue["counts"]["staff"] == 1
    found = client.get("/api/v1/tickets?q=SRV-approval-0001", headers=admin).get_json()
    assert [t["reference"] for t in found["tickets"]] == [reference]

    ticket = client.get(f"/api/v1/tickets/{reference}", headers=admin).get_json()
    assert ticket["state"] == "admin_check"
    assert {a["name"] for a in ticket["actions"]} == {"approve", "ask_log", "refuse"}

    done = client.post(
        f"/api/v1/tickets/{reference}/actions/approve",
        headers=admin,
        json={"fields": {"comment": "via API"}, "row_version": ticket["row_version"]},
    )
    assert done.status_code == 200, done.get_json()
    after = done.get_json()
    assert after["state"] == "approved" and after["outcome"] == "completed"
    assert any(e["actor"] == f"staff:{people['ada']}" for e in after["timeline"])

    again = client.post(
        f"/api/v1/tickets/{reference}/actions/approve",
        headers=admin,
        json={"row_version": ticket["row_version"]},
    )
    assert again.status_code == 409
    assert "changed after you opened it" in again.get_json()["error"]["message"]


def test_api_actions_are_checked_like_the_page(app: Flask, staff_runtime: Runtime, people) -> None:
    reference = open_approval(app)
    client, agent = _client(app), _token(staff_runtime, "ann@team.example")
    denied = client.post(f"/api/v1/tickets/{reference}/actions/approve", headers=agent, json={})
    assert denied.status_code == 403
    missing = client.post(f"/api/v1/tickets/{reference}/actions/refuse", headers=agent, json={})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["field"] == "reason"
    bad = client.post(
        f"/api/v1/tickets/{reference}/actions/refuse", headers=agent, json={"fields": []}
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "fields"
    assert client.get("/api/v1/tickets?view=all", headers=agent).status_code == 422
    assert client.get("/api/v1/tickets/nonsense", headers=agent).status_code == 404
