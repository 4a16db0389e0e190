"""Issue 9's http layer: one mapping of errors, an HTML page or JSON by path, never a traceback;
a database that cannot be reached is a 503 that says to come back."""

from __future__ import annotations

import dataclasses

import pytest

from tests.fixtures.backends import free_port
from tests.foundation.helpers import local_path, post_demo, visible_text
from ticketbridge.app import create_app
from ticketbridge.db import Database
from ticketbridge.errors import Conflict, ServiceUnavailable
from ticketbridge.runtime import Runtime


@pytest.fixture
def app(runtime: Runtime):
    app = create_app(runtime=runtime)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    @app.get("/api/v1/boom")
    def api_boom() -> str:
        raise RuntimeError("secret internal detail")

    @app.get("/redis-down")
    def redis_down() -> str:
        raise ServiceUnavailable("connection refused", setting="TICKETBRIDGE_REDIS_URL")

    @app.get("/conflict")
    def conflict() -> str:
        raise Conflict("ticket LIC-000001 is closed")

    return app


def test_an_unexpected_error_is_a_plain_500_page_or_json_without_its_text(app, caplog) -> None:
    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "Something went wrong" in page.text and "secret" not in page.text
    answer = client.get("/api/v1/boom")
    assert answer.status_code == 500 and "secret" not in answer.text
    assert answer.get_json()["error"]["message"].startswith("The error was logged")
    assert "secret internal detail" in caplog.text


def test_a_domain_error_keeps_its_status_and_message(app) -> None:
    response = app.test_client().get("/conflict")
    assert response.status_code == 409
    assert "ticket LIC-000001 is closed" in visible_text(response.text)


def test_html_outside_the_api_and_json_inside_it(app) -> None:
    client = app.test_client()
    page = client.get("/nothing-here")
    assert page.status_code == 404 and page.mimetype == "text/html"
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404 and answer.get_json()["error"]["message"]


def test_an_unreachable_database_is_a_503_page_and_json_saying_to_come_back(
    runtime: Runtime,
) -> None:
    app = create_app(runtime=runtime)
    client = app.test_client()
    ticket_page = local_path(post_demo(client).headers["Location"])
    gone = Database(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/gone?connect_timeout=2")
    app.extensions["ticketbridge"] = dataclasses.replace(runtime, db=gone)

    page = client.get(ticket_page)
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    assert "cannot reach its database right now" in visible_text(page.text)
    assert "psycopg" not in page.text and "127.0.0.1" not in page.text
    answer = client.get("/api/v1/licenses/SRV-7f3a9c2e51", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 503
    assert "try again in a few minutes" in answer.get_json()["error"]["message"]


def test_an_operators_message_is_not_shown_to_a_visitor(app) -> None:
    page = app.test_client().get("/redis-down")
    assert page.status_code == 503 and "try again in a few minutes" in page.text
    assert "TICKETBRIDGE_REDIS_URL" not in page.text
