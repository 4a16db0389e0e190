"""Staff-app fixtures: the real workflows plus a test workflow whose manual approval changes the
license, on SQLite and PostgreSQL; staff accounts; a signed-in test client."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.fixtures.browser import serving
from tests.staff.browser import StaffServer, new_browser
from ticketbridge.app import create_app
from ticketbridge.config import PROJECT_ROOT
from ticketbridge.outbox.senders import FolderSender
from ticketbridge.runtime import Runtime
from ticketbridge.staff.accounts import create_staff
from ticketbridge.staff.models import StaffRole
from ticketbridge.tickets.models import Ticket

PASSWORD = "correct horse battery staple"
APPROVAL_FORM = {
    "token": "SRV-approval-0001",
    "customer_name": "Acme Contact Center",
    "customer_email": "ops@acme.example",
    "accept_conditions": "on",
    "client_key": "CLIENT-KEY-1",
    "hash_key": "HASH-KEY-1",
}


@pytest.fixture
def staff_workflows(tmp_path: Path) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    for source in (PROJECT_ROOT / "workflows").glob("*.yaml"):
        shutil.copy(source, folder / source.name)
    for source in (Path(__file__).parent / "workflows").glob("*.yaml"):
        shutil.copy(source, folder / source.name)
    return folder


@pytest.fixture
def staff_runtime(
    make_runtime: Callable[..., Runtime], db_url: str, staff_workflows: Path, tmp_path: Path
) -> Runtime:
    return make_runtime(
        database_url=db_url,
        workflows_path=str(staff_workflows),
        public_url="https://tickets.test",
        sender=FolderSender(tmp_path / "mail"),
    )


def add_staff(runtime: Runtime, email: str, name: str, role: StaffRole) -> int:
    with runtime.db.transaction() as session:
        return create_staff(session, email=email, name=name, role=role, password=PASSWORD).id


@pytest.fixture
def people(staff_runtime: Runtime) -> dict[str, int]:
    return {
        "ann": add_staff(staff_runtime, "ann@team.example", "Ann Agent", StaffRole.AGENT),
        "bob": add_staff(staff_runtime, "bob@team.example", "Bob Agent", StaffRole.AGENT),
        "ada": add_staff(staff_runtime, "ada@team.example", "Ada Admin", StaffRole.ADMIN),
    }


@pytest.fixture
def app(staff_runtime: Runtime) -> Flask:
    app = create_app(runtime=staff_runtime)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/staff/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return client


def open_request(app: Flask, request_type: str, form: dict[str, Any]) -> str:
    """File a request form as a customer would; returns the ticket's reference."""
    response = app.test_client().post(f"/requests/{request_type}", data=form)
    assert response.status_code == 303, response.text
    runtime: Runtime = app.extensions["ticketbridge"]
    ticket_id = runtime.links.ticket_id_from_token(response.headers["Location"].rsplit("/", 1)[1])
    assert ticket_id is not None
    return Ticket.reference_for(ticket_id)


def open_approval(app: Flask, **changes: Any) -> str:
    return open_request(app, "approval", {**APPROVAL_FORM, **changes})


# The real server and browsers (tests/staff/browser.py) -----------------------------------


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaffServer]:
    """The embedded default (SQLite, in-process jobs, mail kept as files) with the test
    workflows, an admin and two agents."""
    root = tmp_path_factory.mktemp("staff-server")
    workflows = root / "workflows"
    workflows.mkdir()
    for folder in (PROJECT_ROOT / "workflows", Path(__file__).parent / "workflows"):
        for source in folder.glob("*.yaml"):
            shutil.copy(source, workflows / source.name)
    settings = {
        "workflows_path": str(workflows),
        "secret_key": "browser-test-secret-key-0123456789abcdef",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETBRIDGE_")}
    env |= {f"TICKETBRIDGE_{key.upper()}": value for key, value in settings.items()}
    env["TICKETBRIDGE_INSTANCE_PATH"] = str(root / "instance")
    server = StaffServer("", root / "instance", workflows, env)
    server.instance.mkdir()
    server.cli("db", "upgrade")
    for email, name, role in (
        ("ada@team.example", "Ada Admin", "admin"),
        ("ann@team.example", "Ann Agent", "agent"),
        ("bob@team.example", "Bob Agent", "agent"),
    ):
        server.cli(
            "staff",
            "create",
            email,
            "--name",
            name,
            "--role",
            role,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    with serving(server.instance, **settings) as running:
        yield dataclasses.replace(server, url=running.url)


@pytest.fixture
def browsers() -> Iterator[Any]:
    opened: list[Any] = []

    def open_one() -> Any:
        opened.append(new_browser())
        return opened[-1]

    yield open_one
    for browser in opened:
        browser.quit()
