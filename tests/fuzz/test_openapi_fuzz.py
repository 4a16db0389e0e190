"""Bad input, generated from our own OpenAPI document: no answer is a 5xx, every answer matches
the document (status codes, content types, bodies), whatever schemathesis sends.

The document is the one served at /api/v1/openapi.json, built from the same form specs as the
validation, so a field the document promises and the validator refuses (or the reverse) fails
here. The staff API's operations are called with a valid staff token (an admin's, so every
action's role allows it) on a database holding one ticket, so they answer past the token check.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.forms.test_one_validator import COMMON
from ticketbridge.app import create_app
from ticketbridge.runtime import Runtime
from ticketbridge.staff.accounts import create_staff, issue_api_token
from ticketbridge.staff.models import StaffRole

# What "format: email" means here: an address a mail server will take. email-validator rightly
# refuses special-use domains (.test, .invalid, …) that JSON Schema's format allows.
schemathesis.openapi.format(
    "email", st.from_regex(r"[a-z][a-z0-9]{0,15}@[a-z]{2,12}\.(com|org|net|de)", fullmatch=True)
)


@pytest.fixture
def app(make_runtime: Callable[..., Runtime], sqlite_url: str) -> Flask:
    return create_app(runtime=make_runtime(database_url=sqlite_url))


@pytest.fixture
def api(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def staff_token(app: Flask) -> dict[str, str]:
    """An admin's bearer token, and a ticket (LIC-000001) for the staff API to find."""
    filed = app.test_client().post(
        "/api/v1/requests/general", json={**COMMON, "description": "Fuzzed."}
    )
    assert filed.status_code == 201, filed.get_json()
    runtime: Runtime = app.extensions["ticketbridge"]
    with runtime.db.transaction() as session:
        admin = create_staff(
            session,
            email="ada@team.example",
            name="Ada Admin",
            role=StaffRole.ADMIN,
            password="correct horse battery",
        )
        return {"Authorization": f"Bearer {issue_api_token(admin)}"}


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    copy = tmp_path / "api.sqlite3"
    shutil.copy(sqlite_template, copy)
    return f"sqlite:///{copy}"


def test_the_api_answers_every_generated_request_as_its_document_says(
    api: schemathesis.BaseSchema, staff_token: dict[str, str]
) -> None:
    """Each operation of the document, through hypothesis (schemathesis's pytest plugin does not
    follow pytest 9 yet, so the operations are driven here)."""
    operations = [result.ok() for result in api.get_all_operations()]
    assert operations, "the OpenAPI document lists no operation"
    for operation in operations:

        @given(operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def check(case: schemathesis.Case) -> None:
            # A request the schema allows may still be refused with a documented 422: the
            # license registry's checks (an unknown or inactive token, R2, R10) depend on what
            # is stored, which no schema can say. Every other check stays on.
            case.call_and_validate(headers=staff_token, excluded_checks=[positive_data_acceptance])

        check()
