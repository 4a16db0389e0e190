"""Issue 8 items 8 and 9: bounded forms, and NUL characters refused with a message, not a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.foundation.helpers import DEMO_FORM, hidden_fields
from ticketbridge.http.limits import MAX_FORM_FIELDS, MAX_FORM_TEXT_BYTES
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket


def form_with(client, **fields: str) -> dict[str, str]:
    return {**hidden_fields(client.get("/requests/demo").text), **DEMO_FORM, **fields}


def tickets(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def test_a_url_encoded_form_with_too_many_fields_is_refused_unparsed(client, runtime) -> None:
    junk = "&".join(f"f{i}=x" for i in range(MAX_FORM_FIELDS + 1))
    response = client.post(
        "/requests/demo", data=junk, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert "What you sent is too large" in response.text
    assert tickets(runtime) == 0


def test_a_url_encoded_form_larger_than_the_text_limit_is_refused(client, runtime) -> None:
    data = form_with(client, customer_name="x" * (MAX_FORM_TEXT_BYTES + 1))
    assert client.post("/requests/demo", data=data).status_code == 413
    assert tickets(runtime) == 0


@pytest.mark.parametrize("name", ["customer_name", "token", "customer_email", "junk"])
def test_a_nul_character_in_any_field_is_a_400_naming_it(client, runtime, name) -> None:
    data = form_with(client, **{name: "Acme\x00Corp"})
    response = client.post("/requests/demo", data=data)
    assert response.status_code == 400
    assert f"The field &#39;{name}&#39; contains a NUL character" in response.text
    assert tickets(runtime) == 0


def test_a_nul_character_in_the_query_string_is_a_400(client) -> None:
    response = client.get("/requests/demo?ref=a%00b")
    assert response.status_code == 400 and "NUL character" in response.text
