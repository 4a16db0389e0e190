"""The server sync API (R16, R17, R18) through the Flask app, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import select

from tests.licenses.helpers import add_app, add_license, issue
from ticketbridge.actors import Actor
from ticketbridge.app import create_app
from ticketbridge.clock import utcnow
from ticketbridge.licenses.keys import verify_detached
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import AppState, License, LicenseState, UsageReport
from ticketbridge.licenses.sync import find_license, usage_against_limits
from ticketbridge.runtime import Runtime

URL = "/api/v1/licenses/SRV-A"


@pytest.fixture
def secrets(runtime: Runtime) -> dict[str, str]:
    """Two licenses with keys; the sync secret of each by token."""
    now = utcnow()
    issued = {}
    with runtime.db.transaction() as session:
        for token in ("SRV-A", "SRV-B"):
            license = add_license(session, runtime, token, at=now)
            issued[token] = issue(
                session, runtime, license, client_key=f"CK-{token}", hash_key="HK-1", now=now
            ).sync_secret
    return issued


@pytest.fixture
def client(runtime: Runtime):
    return create_app(runtime=runtime).test_client()


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_r17_sync_answer_carries_limits_features_and_is_signed(
    client, runtime: Runtime, secrets
) -> None:
    response = client.get(URL, headers=auth(secrets["SRV-A"]))
    assert response.status_code == 200
    document = response.get_json()
    assert document["limits"] == {
        "max_concurrent_agents": 5,
        "max_concurrent_webphone_sessions": 4,
        "web_dialer_capacity": 0,
    }
    assert (
        document["features"]["cdr_survey"] is True and document["features"]["white_label"] is False
    )
    assert document["state"] == "active" and document["token"] == "SRV-A"
    kid, signature = response.headers["X-License-Key-Id"], response.headers["X-License-Signature"]
    assert kid == runtime.keyring.active_kid
    assert verify_detached(runtime.keyring, kid, response.data, signature)
    assert not verify_detached(
        runtime.keyring, kid, response.data.replace(b'"agents":5', b'"agents":9'), signature
    )
    assert json.dumps(document, sort_keys=True, separators=(",", ":")).encode() == response.data


def test_r16_unchanged_poll_is_304_and_a_feature_change_is_in_the_next_poll(
    client, runtime: Runtime, secrets
) -> None:
    first = client.get(URL, headers=auth(secrets["SRV-A"]))
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    unchanged = client.get(URL, headers={**auth(secrets["SRV-A"]), "If-None-Match": etag})
    assert (
        unchanged.status_code == 304 and unchanged.data == b"" and unchanged.headers["ETag"] == etag
    )

    with runtime.db.transaction() as session:
        license = find_license(session, "SRV-A")
        apply_changes(
            session,
            license,
            {"agents": 8, "cdr_survey": 0},
            effective_at=utcnow(),
            ticket_id=None,
            actor=Actor.staff("staff"),
            catalogue=runtime.catalogue,
            paid=True,
        )
    changed = client.get(URL, headers={**auth(secrets["SRV-A"]), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["limits"]["max_concurrent_agents"] == 8
    assert changed.get_json()["features"]["cdr_survey"] is False


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}]
)
def test_r16_sync_without_credentials_is_401(client, secrets, headers) -> None:
    response = client.get(URL, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["field"] == "Authorization"


def test_r16_a_server_reaches_only_its_own_license_and_unknown_tokens_look_the_same(
    client, secrets
) -> None:
    other_secret = client.get(URL, headers=auth(secrets["SRV-B"]))
    wrong_secret = client.get(URL, headers=auth(secrets["SRV-A"] + "x"))
    unknown_token = client.get("/api/v1/licenses/SRV-NOPE", headers=auth(secrets["SRV-A"]))
    assert other_secret.status_code == wrong_secret.status_code == unknown_token.status_code == 401
    assert other_secret.data == wrong_secret.data == unknown_token.data
    assert client.get("/api/v1/licenses/SRV-B", headers=auth(secrets["SRV-B"])).status_code == 200


def test_r16_only_a_hash_of_the_sync_secret_is_stored(runtime: Runtime, secrets) -> None:
    with runtime.db.transaction() as session:
        license = find_license(session, "SRV-A")
        stored = [str(getattr(license, column.key)) for column in License.__table__.columns]
    assert not any(secrets["SRV-A"] in value for value in stored)


def test_r18_allowed_apps_with_dates_and_states(client, runtime: Runtime, secrets) -> None:
    now = utcnow()
    with runtime.db.transaction() as session:
        license = find_license(session, "SRV-A")
        for app, state in (("crm", AppState.ACTIVE), ("helpdesk", AppState.SUSPENDED)):
            add_app(
                session,
                runtime,
                license,
                app,
                state=state,
                expires_at=now + dt.timedelta(days=365),
                now=now,
            )
    apps = {
        app["app"]: app
        for app in client.get(URL, headers=auth(secrets["SRV-A"])).get_json()["applications"]
    }
    assert set(apps) == {"crm", "helpdesk"}
    assert apps["crm"]["state"] == "License Active" and apps["crm"]["title"] == "CRM"
    assert apps["crm"]["subscribed_at"] == now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert apps["crm"]["expires_at"] == (now + dt.timedelta(days=365)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert apps["helpdesk"]["state"] == "License Suspended"
    with runtime.db.transaction() as session:
        assert find_license(session, "SRV-A").entitlements.get("helpdesk") is None


def test_r17_usage_report_is_stored_and_shown_against_limits(
    client, runtime: Runtime, secrets
) -> None:
    for agents, sessions in ((3, 1), (7, 2)):
        response = client.post(
            f"{URL}/usage",
            headers=auth(secrets["SRV-A"]),
            json={"concurrent_agents": agents, "webphone_sessions": sessions},
        )
        assert response.status_code == 201
    client.post(
        f"{URL}/usage",
        headers=auth(secrets["SRV-A"]),
        json={"concurrent_agents": 4, "webphone_sessions": 0},
    )
    with runtime.db.transaction() as session:
        license = find_license(session, "SRV-A")
        summary = usage_against_limits(session, license, since=utcnow() - dt.timedelta(days=30))
        assert len(session.scalars(select(UsageReport)).all()) == 3
    agents, webphone = summary.lines
    assert (agents.measure, agents.in_use, agents.peak, agents.licensed, agents.over_limit) == (
        "concurrent_agents",
        4,
        7,
        5,
        True,
    )
    assert (webphone.in_use, webphone.peak, webphone.licensed, webphone.over_limit) == (
        0,
        2,
        4,
        False,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"concurrent_agents": "3", "webphone_sessions": 1}, "concurrent_agents"),
        ({"concurrent_agents": True, "webphone_sessions": 1}, "concurrent_agents"),
        ({"concurrent_agents": 2.5, "webphone_sessions": 1}, "concurrent_agents"),
        ({"concurrent_agents": -1, "webphone_sessions": 1}, "concurrent_agents"),
        ({"concurrent_agents": 1}, "webphone_sessions"),
        ({"concurrent_agents": 1, "webphone_sessions": None}, "webphone_sessions"),
        ({"concurrent_agents": 1, "webphone_sessions": 1, "cpu": 3}, "cpu"),
        ([1, 2], "body"),
        ("not json", "body"),
    ],
)
def test_r17_bad_usage_report_is_400_naming_the_field(
    client, runtime: Runtime, secrets, body, field
) -> None:
    kwargs = (
        {"data": body, "content_type": "application/json"}
        if isinstance(body, str)
        else {"json": body}
    )
    response = client.post(f"{URL}/usage", headers=auth(secrets["SRV-A"]), **kwargs)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    with runtime.db.transaction() as session:
        assert session.scalars(select(UsageReport)).first() is None


def test_r17_usage_report_needs_the_servers_own_secret(client, secrets) -> None:
    body = {"concurrent_agents": 1, "webphone_sessions": 1}
    assert client.post(f"{URL}/usage", headers=auth(secrets["SRV-B"]), json=body).status_code == 401
    assert client.post(f"{URL}/usage", json=body).status_code == 401
    huge = client.post(
        f"{URL}/usage",
        headers=auth(secrets["SRV-A"]),
        data=b"{" + b" " * 5000 + b"}",
        content_type="application/json",
    )
    assert huge.status_code == 413 and "error" in huge.get_json()


def test_r17_usage_report_without_content_length_is_held_to_the_same_limit(client, secrets) -> None:
    body = b'{"concurrent_agents": 1, "webphone_sessions": 1' + b" " * 5000 + b"}"
    chunked = client.post(
        f"{URL}/usage",
        headers=auth(secrets["SRV-A"]),
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert chunked.status_code == 413 and "4096 bytes" in chunked.get_json()["error"]["message"]


def test_r16_unknown_api_path_is_json_404_and_a_wrong_method_json_405(client) -> None:
    response = client.get("/api/v1/licences")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"].startswith(
        "Not Found: the sync API is GET /api/v1/licenses/{token}"
    )
    wrong_method = client.delete(URL)
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["message"].startswith("Method Not Allowed: ")
    assert "GET" in wrong_method.headers["Allow"]


def test_r18_deactivated_license_shows_apps_inactive(client, runtime: Runtime, secrets) -> None:
    now = utcnow()
    with runtime.db.transaction() as session:
        license = find_license(session, "SRV-A")
        add_app(session, runtime, license, "crm", now=now)
        license.state = LicenseState.DEACTIVATED
    document = client.get(URL, headers=auth(secrets["SRV-A"])).get_json()
    assert document["state"] == "deactivated"
    assert document["applications"][0]["state"] == "License Inactive"


def test_r8_ai_conversations_are_recorded_with_usage_and_billed_in_arrears(
    client, runtime: Runtime, secrets
) -> None:
    from ticketbridge.licenses.billing import LineKind
    from ticketbridge.licenses.invoicing import invoices_for_month

    for count in (40, 2):
        body = {
            "concurrent_agents": 1,
            "webphone_sessions": 0,
            "ai_conversations": {"ai_assistants": count, "ai_agent_assistants": 1},
        }
        assert (
            client.post(f"{URL}/usage", headers=auth(secrets["SRV-A"]), json=body).status_code
            == 201
        )
    unknown = client.post(
        f"{URL}/usage",
        headers=auth(secrets["SRV-A"]),
        json={"concurrent_agents": 1, "webphone_sessions": 0, "ai_conversations": {"botify": 3}},
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["field"] == "ai_conversations.botify"
    assert (
        "not an add-on billed on usage; use one of: ai_agent_assistants, ai_assistants"
        in unknown.get_json()["error"]["message"]
    )
    negative = client.post(
        f"{URL}/usage",
        headers=auth(secrets["SRV-A"]),
        json={
            "concurrent_agents": 1,
            "webphone_sessions": 0,
            "ai_conversations": {"ai_assistants": -1},
        },
    )
    assert (
        negative.status_code == 400 and negative.get_json()["error"]["field"] == "ai_conversations"
    )

    with runtime.db.transaction() as session:
        find_license(session, "SRV-A").paid_since = utcnow() - dt.timedelta(days=40)
    with runtime.db.transaction() as session:
        month = session.scalars(select(UsageReport.reported_at)).first().date()
        [invoice] = [
            i for i in invoices_for_month(session, runtime.catalogue, month) if i.token == "SRV-A"
        ]
    usage = {
        line.item: (line.quantity, line.amount)
        for line in invoice.lines
        if line.kind == LineKind.USAGE
    }
    assert usage == {
        "ai_assistants": (42, runtime.catalogue.usage_price("ai_assistants") * 42),
        "ai_agent_assistants": (2, runtime.catalogue.usage_price("ai_agent_assistants") * 2),
    }
