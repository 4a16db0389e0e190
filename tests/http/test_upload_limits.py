"""Issue 8 item 8: a too-large upload or text is a form error that keeps what the customer
typed, and nothing a rejected form sent is stored."""

from __future__ import annotations

import io
import re

from tests.foundation.helpers import GENERAL_FORM, hidden_fields
from ticketbridge.forms.fields import DEFAULT_MAX_LENGTH, DEFAULT_MAX_SIZE, FieldType
from ticketbridge.runtime import Runtime

TYPED = GENERAL_FORM


def post_general(client, **fields):
    form = {**hidden_fields(client.get("/requests/general").text), **TYPED, **fields}
    return client.post("/requests/general", data=form, content_type="multipart/form-data")


def stored_files(runtime: Runtime) -> list[str]:
    folder = runtime.settings.instance_path / "attachments"
    return [p.name for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def field_block(page: str, name: str) -> str:
    return page.split(f'id="field-{name}"', 1)[1].split("</div>", 1)[0]


def test_an_upload_too_large_for_its_field_is_a_form_error_keeping_the_text(
    client, runtime
) -> None:
    big = io.BytesIO(b"x" * (DEFAULT_MAX_SIZE + 1))
    response = post_general(client, attachments=[(big, "server.log")])
    assert response.status_code == 422
    assert "each file may have" in field_block(response.text, "attachments")
    assert TYPED["description"] in response.text and TYPED["customer_name"] in response.text
    assert stored_files(runtime) == []


def test_a_rejected_form_stores_none_of_its_files(client, runtime) -> None:
    response = post_general(
        client, description="", attachments=[(io.BytesIO(b"log line"), "server.log")]
    )
    assert response.status_code == 422
    assert stored_files(runtime) == []


def test_a_text_longer_than_its_field_allows_is_a_form_error(client, runtime) -> None:
    limit = DEFAULT_MAX_LENGTH[FieldType.TEXTAREA]
    response = post_general(client, description="d" * (limit + 1))
    assert response.status_code == 422
    assert re.search(r"at most 10,?000", field_block(response.text, "description"))


def test_a_24_mb_description_is_refused_before_it_is_parsed(client, runtime) -> None:
    response = post_general(client, description="d" * 24_000_000)
    assert response.status_code == 413
    assert "What you sent is too large" in response.text


def test_files_each_within_their_limit_are_accepted_whatever_their_total(client) -> None:
    """The request limit sits above what a file field accepts (five files of 10 MiB)."""
    files = [(io.BytesIO(bytes([i]) * (9 * 1024 * 1024)), f"log-{i}.txt") for i in range(4)]
    assert post_general(client, attachments=files).status_code == 303
