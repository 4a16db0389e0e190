"""The staff JSON API: bearer tokens only, the queue views, a ticket with its open actions, and
actions checked like the page's (role, fields, stale row_version), naming the person."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

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


STAFF_OPERATIONS = {
    ("/api/v1/tickets", "get"),
    ("/api/v1/tickets/{reference}", "get"),
    ("/api/v1/tickets/{reference}/actions/{transition}", "post"),
}


def _document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def test_the_openapi_document_lists_the_staff_api_with_its_token_scheme(app: Flask) -> None:
    document = _document(_client(app))
    validate(document)
    listed = {(path, method) for path, item in document["paths"].items() for method in item}
    assert STAFF_OPERATIONS <= listed
    scheme = document["components"]["securitySchemes"]["staffToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method in STAFF_OPERATIONS:
        operation = document["paths"][path][method]
        assert operation["security"] == [{"staffToken": []}]
        assert {"200", "401", "503"} <= set(operation["responses"])
    action = document["paths"]["/api/v1/tickets/{reference}/actions/{transition}"]["post"]
    assert {"400", "403", "404", "409", "413", "422"} <= set(action["responses"])
    names = {p["name"] for p in document["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert names == {"view", "type", "state", "after", "q"}


def test_staff_api_answers_match_their_documented_schemas(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    """Real answers (a queue page, a ticket, an action taken, each error kind) against the
    schemas the document gives for their status, so the document cannot drift from the code."""
    reference = open_approval(app)
    client, admin = _client(app), _token(staff_runtime, "ada@team.example")
    document = _document(client)

    def check(path: str, method: str, response: Any) -> None:
        answer = document["paths"][path][method]["responses"][str(response.status_code)]
        schema = answer["content"]["application/json"]["schema"]
        Draft202012Validator({**schema, "components": document["components"]}).validate(
            response.get_json()
        )

    queue = client.get("/api/v1/tickets?view=staff", headers=admin)
    check("/api/v1/tickets", "get", queue)
    assert queue.get_json()["tickets"], "the queue answer checked holds a ticket"
    check("/api/v1/tickets", "get", client.get("/api/v1/tickets?view=nope", headers=admin))
    check("/api/v1/tickets", "get", client.get("/api/v1/tickets?q=%00", headers=admin))
    ticket = client.get(f"/api/v1/tickets/{reference}", headers=admin)
    check("/api/v1/tickets/{reference}", "get", ticket)
    assert ticket.get_json()["actions"] and ticket.get_json()["timeline"]
    check("/api/v1/tickets/{reference}", "get", client.get("/api/v1/tickets/LIC-9999999999"))
    action = "/api/v1/tickets/{reference}/actions/{transition}"
    done = client.post(
        f"/api/v1/tickets/{reference}/actions/approve",
        headers=admin,
        json={"fields": {"comment": "checked"}, "row_version": ticket.get_json()["row_version"]},
    )
    assert done.status_code == 200
    check(action, "post", done)
    stale = client.post(
        f"/api/v1/tickets/{reference}/actions/approve", headers=admin, json={"row_version": 1}
    )
    assert stale.status_code == 409
    check(action, "post", stale)
    for status, body in ((400, b"[1]"), (422, b'{"fields": 3}')):
        refused = client.post(
            f"/api/v1/tickets/{reference}/actions/approve",
            headers={**admin, "Content-Type": "application/json"},
            data=body,
        )
        assert refused.status_code == status
        check(action, "post", refused)


def test_a_reference_beyond_any_ticket_id_is_not_found_in_the_api_and_search(
    app: Flask, staff_runtime: Runtime, people
) -> None:
    client, agent = _client(app), _token(staff_runtime, "ann@team.example")
    assert client.get("/api/v1/tickets/LIC-99999999999", headers=agent).status_code == 404
    found = client.get("/api/v1/tickets?q=LIC-99999999999", headers=agent)
    assert found.status_code == 200 and found.get_json()["tickets"] == []
    refused = client.get("/api/v1/tickets?type=%00", headers=agent)
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "type"
