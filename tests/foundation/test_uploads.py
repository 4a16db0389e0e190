"""Files sent with a request form are kept, listed on the ticket, and never silently dropped."""

from __future__ import annotations

import hashlib
import io

from sqlalchemy import select

from tests.foundation.helpers import local_path, submit, visible_text
from ticketbridge.app import create_app
from ticketbridge.intake.email.attachments import attachment_path
from ticketbridge.tickets.models import Ticket

GENERAL = {
    "customer_name": "Acme",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
    "description": "Our log file, please check the license.",
}


def test_general_request_keeps_uploaded_files_and_lists_them(runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    form_page = client.get("/requests/general").text
    assert 'enctype="multipart/form-data"' in form_page
    assert 'type="file" id="attachments" name="attachments" multiple' in form_page

    log = b"2026-11-20 license check failed\n" * 100
    response = submit(
        client,
        "/requests/general",
        {
            **GENERAL,
            "attachments": [
                (io.BytesIO(log), "server.log"),
                (io.BytesIO("é".encode()), "notes-é.txt"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303

    with runtime.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        kept = ticket.form_data["attachments"]
    assert [(a["name"], a["size"]) for a in kept] == [("server.log", len(log)), ("notes-é.txt", 2)]
    digest = hashlib.sha256(log).hexdigest()
    assert kept[0]["sha256"] == digest
    assert attachment_path(runtime.settings.instance_path, digest).read_bytes() == log

    page = visible_text(client.get(local_path(response.headers["Location"])).text)
    assert f"server.log ({len(log)} bytes), notes-é.txt (2 bytes)" in page
    assert "None" not in page


def test_a_rejected_form_asks_for_the_files_again(runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    response = submit(
        client,
        "/requests/general",
        {**GENERAL, "description": "", "attachments": [(io.BytesIO(b"log"), "server.log")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Description is required" in response.text
    assert "Please choose the files again" in response.text


def test_a_multichoice_field_with_one_choice_ticked_is_a_list(
    make_runtime, db_url, tmp_path
) -> None:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "addons.yaml").write_text(
        "name: addons\ntitle: Add-ons\nform:\n  fields:\n"
        "    - {name: addons, type: multichoice, choices: [ai_assistants, quality_analysis]}\n"
        "initial: received\nstates:\n  received: {waits_on: staff}\n  done: {outcome: completed}\n"
        "transitions:\n  - {name: close, from: received, to: done, trigger: manual, label: Close}\n"
    )
    runtime = make_runtime(database_url=db_url, workflows_path=str(folder))
    client = create_app(runtime=runtime).test_client()
    response = submit(
        client,
        "/requests/addons",
        {**GENERAL, "token": "SRV-7f3a9c2e51", "addons": "quality_analysis"},
    )
    assert response.status_code == 303, response.text
    with runtime.db.transaction() as session:
        assert session.scalars(select(Ticket.form_data)).one()["addons"] == ["quality_analysis"]
