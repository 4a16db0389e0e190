"""Issue 8 item 10: every POST form, customer forms included, needs the visitor's CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.foundation.helpers import DEMO_FORM, hidden_fields, local_path, submit
from ticketbridge.app import create_app
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Message, Ticket

GENERAL = {**DEMO_FORM, "description": "Which plan fits us?"}
GENERAL.pop("token")


@pytest.fixture
def app(runtime: Runtime):
    return create_app(runtime=runtime)


def count(runtime: Runtime, model: type) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("token", [None, "", "forged-token", "another visitor's"])
def test_a_request_form_without_the_visitors_token_is_refused(app, runtime, token) -> None:
    client = app.test_client()
    client.get("/requests/demo")
    if token == "another visitor's":
        token = hidden_fields(app.test_client().get("/requests/demo").text)["csrf_token"]
    data = {**DEMO_FORM} | ({"csrf_token": token} if token is not None else {})
    response = client.post("/requests/demo", data=data)
    assert response.status_code == 400
    assert "This form has expired or was not sent from this site" in response.text
    assert count(runtime, Ticket) == 0


def test_a_ticket_message_without_the_token_is_refused(app, runtime) -> None:
    client = app.test_client()
    page = local_path(submit(client, "/requests/general", GENERAL).headers["Location"])
    response = client.post(f"{page}/messages", data={"message": "from another site"})
    assert response.status_code == 400
    assert count(runtime, Message) == 0


def test_the_session_cookie_is_http_only_and_same_site(app) -> None:
    client = app.test_client()
    client.get("/requests/demo")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
