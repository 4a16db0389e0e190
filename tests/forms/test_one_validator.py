"""One validator: the same field specs give the same answers and the same refusals whether a
customer fills them in on the web form, staff fill them in for an action, or `workflows
simulate` submits them — every field type, and `when:` (required only when shown, dropped when
hidden)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.fixtures import backends
from tests.foundation.helpers import open_request, submit
from ticketbridge.actors import Actor
from ticketbridge.app import create_app
from ticketbridge.clock import utcnow
from ticketbridge.errors import ValidationError
from ticketbridge.forms.fields import Upload
from ticketbridge.outbox.senders import FolderSender
from ticketbridge.runtime import Runtime
from ticketbridge.simulation import SimulatedEvent, simulate
from ticketbridge.tickets.models import Ticket, TicketEvent

HERE = Path(__file__).resolve().parent
COMMON = {
    "token": "SRV-7f3a9c2e51",
    "customer_name": "Acme Contact Center",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
}
VALID = {"company": "Acme", "reason": "expired"}
LOG = ("server.log", b"license check failed\n" * 10)
ANSWERED = {
    "company": "Acme  Contact\r\nCenter",
    "contact": "Ops@Acme.example",
    "old_token": " SRV-old-0001 ",
    "agents": "12",
    "plan": "voice",
    "add_ons": ["ai_assistants", "quality_analysis"],
    "white_label": "no",
    "urgent": "on",
    "reason": "new_token",
    "new_token": "SRV-new-0002",
    "grace_until": "2026-12-31",
    "comments": "line one\r\nline two",
}
ANSWERED_CLEAN = {
    "company": "Acme Contact Center",
    "contact": "Ops@acme.example",
    "old_token": "SRV-old-0001",
    "agents": 12,
    "plan": "voice",
    "add_ons": ["ai_assistants", "quality_analysis"],
    "white_label": False,
    "urgent": True,
    "reason": "new_token",
    "new_token": "SRV-new-0002",
    "grace_until": "2026-12-31",
    "comments": "line one\nline two",
}
# (answers, what comes out: the clean values expected, or the fields refused with a message)
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("every type answered", ANSWERED, ANSWERED_CLEAN),
    (
        "nothing optional answered: empty values, the hidden field absent",
        VALID,
        {"company": "Acme", "add_ons": [], "urgent": False, "new_token": None, "agents": None},
    ),
    (
        "when: a hidden field's answer is dropped, and it is not required",
        {**VALID, "new_token": "SRV-hidden-0003", "grace_until": "not a date"},
        {"reason": "expired", "new_token": None, "grace_until": None},
    ),
    (
        "when: a shown field is required",
        {**VALID, "reason": "new_token"},
        {"errors": {"new_token": "New token is required"}},
    ),
    ("text maximum", {**VALID, "company": "x" * 21}, {"errors": {"company": "at most 20"}}),
    ("required text", {"reason": "expired"}, {"errors": {"company": "Company is required"}}),
    ("email", {**VALID, "contact": "ops@"}, {"errors": {"contact": "not a valid email"}}),
    ("token", {**VALID, "old_token": "short"}, {"errors": {"old_token": "not a license token"}}),
    (
        "integer bounds, in the customer's words",
        {**VALID, "agents": "3"},
        {"errors": {"agents": "Agents must be at least 5 — agent licenses are per concurrent"}},
    ),
    ("integer", {**VALID, "agents": "five"}, {"errors": {"agents": "must be a whole number"}}),
    (
        "choice from the catalogue",
        {**VALID, "plan": "gold"},
        {"errors": {"plan": "must be one of: voice, digital, omnichannel"}},
    ),
    (
        "multichoice from the catalogue",
        {**VALID, "add_ons": ["teleport"]},
        {"errors": {"add_ons": "teleport not among"}},
    ),
    ("yes/no", {**VALID, "white_label": "maybe"}, {"errors": {"white_label": "answer yes or no"}}),
    (
        "date",
        {**VALID, "reason": "new_token", "new_token": "SRV-new-0002", "grace_until": "31/12/26"},
        {"errors": {"grace_until": "must be a date, YYYY-MM-DD"}},
    ),
    (
        "textarea maximum",
        {**VALID, "comments": "x" * 51},
        {"errors": {"comments": "at most 50 characters"}},
    ),
    (
        "files within the limits",
        {**VALID, "log_file": [LOG, ("notes.txt", b"ok")]},
        {"log_file": [("server.log", len(LOG[1])), ("notes.txt", 2)]},
    ),
    (
        "too many files",
        {**VALID, "log_file": [LOG, LOG, LOG]},
        {"errors": {"log_file": "at most 2 files, not 3"}},
    ),
    (
        "a file too large",
        {**VALID, "log_file": [("big.log", b"x" * 1025)]},
        {"errors": {"log_file": "big.log has 1,025 bytes; each file may have at most 1,024"}},
    ),
]
Outcome = dict[str, Any]


@pytest.fixture
def table(make_runtime: Callable[..., Runtime], db_url: str, tmp_path: Path) -> Runtime:
    return make_runtime(
        database_url=db_url,
        workflows_path=str(HERE / "workflows"),
        sender=FolderSender(tmp_path / "mail"),
    )


def _files_as_uploads(answers: dict[str, Any]) -> dict[str, Any]:
    return {
        k: [Upload(name, "text/plain", data) for name, data in v] if k == "log_file" else v
        for k, v in answers.items()
    }


def _comparable(form: dict[str, Any]) -> dict[str, Any]:
    files = form.get("log_file") or []
    return {**form, "log_file": [(f["name"], f["size"]) for f in files]}


def _refusals(error: ValidationError) -> Outcome:
    return {"errors": {field: " ".join(messages) for field, messages in error.errors.items()}}


def through_customer_form(runtime: Runtime, answers: dict[str, Any]) -> Outcome:
    client = create_app(runtime=runtime).test_client()
    data: dict[str, Any] = {**COMMON, **answers}
    if "log_file" in data:
        data["log_file"] = [(io.BytesIO(content), name) for name, content in data["log_file"]]
    response = submit(client, "/requests/table", data, content_type="multipart/form-data")
    if response.status_code == 422:
        page = response.text.replace("&#39;", "'").replace("&lt;", "<")
        fields = page.split('id="field-')[1:]
        return {
            "errors": {
                chunk.split('"', 1)[0]: " ".join(
                    p.split(">", 1)[1].split("</p>", 1)[0]
                    for p in chunk.split('<p class="error"')[1:]
                )
                for chunk in fields
                if '<p class="error"' in chunk
            }
        }
    assert response.status_code == 303, response.text
    with runtime.db.transaction() as session:
        return _comparable(session.scalars(select(Ticket.form_data)).one())


def through_staff_action(runtime: Runtime, answers: dict[str, Any]) -> Outcome:
    ticket_id = open_request(runtime, "table", {**COMMON, **VALID})
    try:
        with runtime.db.transaction() as session:
            runtime.engine.fire_manual(
                session,
                session.get_one(Ticket, ticket_id),
                "act",
                staff_role="agent",
                fields=_files_as_uploads(answers),
                now=utcnow(),
                actor=Actor.staff("ann@team.example"),
            )
    except ValidationError as error:
        return _refusals(error)
    with runtime.db.transaction() as session:
        event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "transition")).one()
        return _comparable(event.payload["fields"])


def through_simulate(tmp_path: Path, answers: dict[str, Any]) -> Outcome | None:
    """`workflows simulate` reads JSON, which carries no files: those cases are the others'."""
    if "log_file" in answers:
        return None
    settings = backends.test_settings(tmp_path / "simulate", workflows_path=str(HERE / "workflows"))
    staff: list[str] = []
    event = SimulatedEvent("manual", "act", json.loads(json.dumps(answers)))
    simulate(settings, "table", {**COMMON, **VALID}, [event], staff.append)
    refused = [line.strip() for line in staff if line.strip().startswith("refused: ")]
    try:
        simulate(settings, "table", {**COMMON, **answers}, [], staff.append)
    except ValidationError as error:
        assert refused == [f"refused: {error.message}"], staff
        return _refusals(error)
    assert any("transition act" in line for line in staff), staff
    fields = dict(
        line.strip().removeprefix("field ").split(": ", 1)
        for line in staff
        if line.strip().startswith("field ")
    )
    return {"fields shown": fields}


def _matches(outcome: Outcome, expected: Outcome) -> None:
    if "errors" in expected:
        assert "errors" in outcome, outcome
        assert set(outcome["errors"]) == set(expected["errors"]), outcome
        for field, words in expected["errors"].items():
            assert words in outcome["errors"][field], (field, outcome)
    else:
        assert "errors" not in outcome, outcome
        for field, value in expected.items():
            assert outcome[field] == value, (field, outcome)


@pytest.mark.parametrize(("answers", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_same_fields_validate_alike_for_customers_staff_and_simulate(
    table: Runtime, db_url: str, tmp_path: Path, answers: dict[str, Any], expected: Outcome
) -> None:
    _matches(through_customer_form(table, answers), expected)
    _matches(through_staff_action(table, answers), expected)
    if not db_url.startswith("sqlite"):
        return  # simulate brings its own throwaway SQLite database: once is enough
    simulated = through_simulate(tmp_path, answers)
    if simulated is not None and "errors" in expected:
        _matches(simulated, expected)
    elif simulated is not None:
        shown = simulated["fields shown"]
        for field, value in expected.items():
            assert shown.get(field, "None") == str(value), (field, shown)
