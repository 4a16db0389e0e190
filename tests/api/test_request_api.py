"""`POST /api/v1/requests/{type}` validates like the form, and the OpenAPI document describes it."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from tests.forms.test_one_validator import COMMON, HERE
from ticketbridge.app import create_app
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket

GENERAL = {**COMMON, "description": "Please check our license."}


@pytest.fixture
def api(runtime: Runtime) -> Any:
    return create_app(runtime=runtime).test_client()


def tickets(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_a_json_request_creates_the_ticket_and_answers_with_its_link(
    api: Any, runtime: Runtime
) -> None:
    response = api.post("/api/v1/requests/general", json=GENERAL)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["reference"] == "LIC-000001"
    assert body["ticket_url"].startswith("http://tickets.test/t/")
    assert response.headers["Location"] == body["ticket_url"]
    assert (body["state"], body["waiting_on"]) == ("received", "staff")
    page = api.get(body["ticket_url"].removeprefix("http://tickets.test"))
    assert page.status_code == 200 and "LIC-000001" in page.text


def test_refusals_name_every_field_and_create_nothing(api: Any, runtime: Runtime) -> None:
    response = api.post(
        "/api/v1/requests/general",
        json={"customer_email": "ops@", "accept_conditions": False, "description": ""},
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {"customer_name", "customer_email", "accept_conditions", "description"}
    assert "not a valid email address" in errors["customer_email"][0]
    assert "must be accepted" in errors["accept_conditions"][0]
    assert response.json["error"]["field"] == "customer_name"
    assert tickets(runtime) == 0


def test_files_come_as_multipart_and_json_cannot_carry_them(api: Any, runtime: Runtime) -> None:
    as_json = api.post("/api/v1/requests/general", json={**GENERAL, "attachments": ["x.log"]})
    assert as_json.status_code == 422
    assert as_json.json["errors"] == {
        "attachments": ["Attachments: send files as multipart/form-data uploads"]
    }
    upload = api.post(
        "/api/v1/requests/general",
        data={**GENERAL, "attachments": [(io.BytesIO(b"log line\n"), "server.log")]},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.json
    with runtime.db.transaction() as session:
        [kept] = session.scalars(select(Ticket.form_data)).one()["attachments"]
    assert (kept["name"], kept["size"]) == ("server.log", 9)


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": "token=x", "content_type": "text/plain"}, 415, "application/json"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "send a JSON object"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "send a JSON object"),
        (
            {"data": json.dumps({**GENERAL, "description": "x" * 70_000})},
            413,
            "larger than 65536 bytes",
        ),
    ],
)
def test_a_body_that_is_not_a_request_is_refused_in_json(
    api: Any, runtime: Runtime, kwargs: dict[str, Any], status: int, words: str
) -> None:
    kwargs.setdefault("content_type", "application/json")
    response = api.post("/api/v1/requests/general", **kwargs)
    assert response.status_code == status
    assert words in response.json["error"]["message"]
    assert tickets(runtime) == 0


def test_an_unknown_request_type_is_a_json_404(api: Any) -> None:
    response = api.post("/api/v1/requests/teleport", json=GENERAL)
    assert response.status_code == 404
    assert "no workflow for request type 'teleport'" in response.json["error"]["message"]


def test_an_idempotency_key_makes_a_retry_return_the_first_ticket(
    api: Any, runtime: Runtime
) -> None:
    headers = {"Idempotency-Key": "0b6e2a5c-7d1f-4a8e-9c3b-2f5d6e7a8b9c"}
    first = api.post("/api/v1/requests/general", json=GENERAL, headers=headers)
    again = api.post("/api/v1/requests/general", json=GENERAL, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json == again.json and tickets(runtime) == 1
    short = api.post("/api/v1/requests/general", json=GENERAL, headers={"Idempotency-Key": "1"})
    assert short.status_code == 422
    assert "16 to 60 letters" in short.json["errors"]["Idempotency-Key"][0]


def test_the_openapi_document_is_valid_and_generated_from_the_forms(
    make_runtime: Any, db_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime(database_url=db_url, workflows_path=str(HERE / "workflows"))
    response = create_app(runtime=runtime).test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    schemas = document["components"]["schemas"]
    table = schemas["table"]
    assert table["required"] == [
        "token",
        "customer_name",
        "customer_email",
        "company",
        "reason",
    ] + ["accept_conditions"]
    assert table["properties"]["agents"]["minimum"] == 5
    assert table["properties"]["plan"]["enum"] == ["voice", "digital", "omnichannel"]
    assert "log_file" not in table["properties"]
    assert schemas["table_multipart"]["properties"]["log_file"]["maxItems"] == 2
    new_token = table["properties"]["new_token"]
    assert "new_token" not in table["required"]
    assert 'Applies only when form.reason == "new_token"' in new_token["description"]
    operation = document["paths"]["/api/v1/requests/table"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }
