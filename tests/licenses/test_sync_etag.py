"""R16: the sync API answers an unchanged poll 304 from the license's revision alone, so every
input of the signed document must change its ETag; a stale 304 would keep a server on an old
license. Each test changes one input and expects a 200 with a new ETag and new bytes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.licenses.helpers import add_app, add_license, issue
from ticketbridge.actors import Actor
from ticketbridge.app import create_app
from ticketbridge.licenses.keys import KeyRing
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import DOCUMENT_COLUMNS, AppState, License, LicenseState
from ticketbridge.licenses.sync import find_license, sync_document, validity
from ticketbridge.licenses.tokens import move_to_new_token
from ticketbridge.runtime import Runtime

TOKEN = "SRV-E"
WEEK = dt.timedelta(days=7)
# An hour into a validity step of the default TTL (a week, so steps of 42 hours).
T0 = validity(dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC), WEEK)[0] + dt.timedelta(hours=1)


class Clock:
    """The sync API's "now", moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("ticketbridge.api.sync.utcnow", clock)
    return clock


@pytest.fixture
def secret(runtime: Runtime) -> str:
    """A license with a key and one application (CRM) that expires a minute after T0."""
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, TOKEN, at=T0 - dt.timedelta(days=1))
        add_app(
            session,
            runtime,
            license,
            "crm",
            expires_at=T0 + dt.timedelta(minutes=1),
            now=T0 - dt.timedelta(days=1),
        )
        return issue(session, runtime, license, now=T0 - dt.timedelta(days=1)).sync_secret


def poll(
    client: FlaskClient, secret: str, etag: str | None = None, token: str = TOKEN
) -> tuple[int, str, bytes]:
    headers = {"Authorization": f"Bearer {secret}"}
    if etag is not None:
        headers["If-None-Match"] = etag
    response = client.get(f"/api/v1/licenses/{token}", headers=headers)
    return response.status_code, response.headers["ETag"], response.data


def staff_changes(session: Session, runtime: Runtime, license: License) -> None:
    apply_changes(
        session,
        license,
        {"agents": 9},
        effective_at=T0,
        ticket_id=None,
        actor=Actor.staff("staff"),
        catalogue=runtime.catalogue,
        paid=True,
    )


def app_suspended(session: Session, runtime: Runtime, license: License) -> None:
    license.applications[0].state = AppState.SUSPENDED


def app_renewed(session: Session, runtime: Runtime, license: License) -> None:
    license.applications[0].expires_at = T0 + dt.timedelta(days=365)


def app_added(session: Session, runtime: Runtime, license: License) -> None:
    add_app(session, runtime, license, "helpdesk", now=T0)


def app_row_removed(session: Session, runtime: Runtime, license: License) -> None:
    session.delete(license.applications[0])


def state_changed(session: Session, runtime: Runtime, license: License) -> None:
    license.state = LicenseState.GRACE


def plan_changed(session: Session, runtime: Runtime, license: License) -> None:
    license.plan = "chat"


def expiry_set(session: Session, runtime: Runtime, license: License) -> None:
    license.expires_at = T0 + dt.timedelta(days=30)


def token_spelled_otherwise(session: Session, runtime: Runtime, license: License) -> None:
    license.token = TOKEN.lower()


CHANGES: list[Callable[[Session, Runtime, License], None]] = [
    staff_changes,
    app_suspended,
    app_renewed,
    app_added,
    app_row_removed,
    state_changed,
    plan_changed,
    expiry_set,
    token_spelled_otherwise,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_r16_any_write_to_what_the_document_shows_ends_the_304(
    runtime: Runtime,
    clock: Clock,
    secret: str,
    change: Callable[[Session, Runtime, License], None],
) -> None:
    """Written the way staff, the CLI or a script would: no step, no explicit revision."""
    client = create_app(runtime=runtime).test_client()
    status, etag, body = poll(client, secret)
    assert status == 200 and poll(client, secret, etag)[:2] == (304, etag)
    with runtime.db.transaction() as session:
        license = find_license(session, TOKEN)
        assert license is not None
        change(session, runtime, license)
    status, new_etag, new_body = poll(client, secret, etag)
    assert status == 200 and new_etag != etag and new_body != body
    assert poll(client, secret, new_etag)[:2] == (304, new_etag)


def test_r16_a_token_move_gives_the_new_token_a_new_answer(
    runtime: Runtime, clock: Clock, secret: str
) -> None:
    client = create_app(runtime=runtime).test_client()
    _, etag, _ = poll(client, secret)
    with runtime.db.transaction() as session:
        license = find_license(session, TOKEN)
        assert license is not None
        move_to_new_token(
            session, license, "SRV-MOVED", ticket_id=None, actor=Actor.staff("ana"), now=T0
        )
    status, new_etag, body = poll(client, secret, etag, token="SRV-MOVED")
    assert status == 200 and new_etag != etag and b'"token":"SRV-MOVED"' in body


def test_r18_an_application_expiring_between_two_polls_ends_the_304(
    runtime: Runtime, clock: Clock, secret: str
) -> None:
    """Within one validity step, so only the app's expiry date passing tells the answers apart."""
    client = create_app(runtime=runtime).test_client()
    _, etag, body = poll(client, secret)
    assert b"License Active" in body
    clock.now = T0 + dt.timedelta(minutes=2)
    assert validity(clock.now, WEEK) == validity(T0, WEEK)
    status, new_etag, new_body = poll(client, secret, etag)
    assert status == 200 and new_etag != etag and b"License Expired" in new_body


def test_r16_the_next_validity_step_ends_the_304(
    runtime: Runtime, clock: Clock, secret: str
) -> None:
    client = create_app(runtime=runtime).test_client()
    _, etag, body = poll(client, secret)
    clock.now = T0 + dt.timedelta(seconds=30)  # before CRM expires: same answer
    assert poll(client, secret, etag)[:2] == (304, etag)
    clock.now = T0 + WEEK / 4
    status, new_etag, new_body = poll(client, secret, etag)
    assert status == 200 and new_etag != etag and new_body != body


def rotated_key(runtime: Runtime) -> Runtime:
    keyring = KeyRing(Ed25519PrivateKey.generate(), runtime.keyring.public_keys)
    return dataclasses.replace(runtime, keyring=keyring)


def retitled_catalogue(runtime: Runtime) -> Runtime:
    items = dict(runtime.catalogue.items)
    items["crm"] = dataclasses.replace(items["crm"], title="CRM suite")
    return dataclasses.replace(
        runtime, catalogue=dataclasses.replace(runtime.catalogue, items=items)
    )


def longer_ttl(runtime: Runtime) -> Runtime:
    settings = dataclasses.replace(runtime.settings, license_sync_ttl_seconds=2 * 7 * 24 * 3600)
    return dataclasses.replace(runtime, settings=settings)


@pytest.mark.parametrize(
    "restart", [rotated_key, retitled_catalogue, longer_ttl], ids=lambda f: f.__name__
)
def test_r16_a_restart_with_another_key_catalogue_or_ttl_ends_the_304(
    runtime: Runtime, clock: Clock, secret: str, restart: Callable[[Runtime], Runtime]
) -> None:
    """A new signing key re-signs even an unchanged document: the server gets its signature."""
    _, etag, body = poll(create_app(runtime=runtime).test_client(), secret)
    restarted = restart(runtime)
    response = (
        create_app(runtime=restarted)
        .test_client()
        .get(
            f"/api/v1/licenses/{TOKEN}",
            headers={"Authorization": f"Bearer {secret}", "If-None-Match": etag},
        )
    )
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert response.headers["X-License-Key-Id"] == restarted.keyring.active_kid
    assert restart is rotated_key or response.data != body


class Reads:
    """A license that notes which of its attributes are read."""

    def __init__(self, license: License) -> None:
        self.license, self.names = license, set[str]()

    def __getattr__(self, name: str) -> Any:
        self.names.add(name)
        return getattr(self.license, name)


def test_r16_the_document_reads_only_what_raises_the_revision(
    runtime: Runtime, secret: str
) -> None:
    """A column added to the document but not to DOCUMENT_COLUMNS would leave its ETag alone."""
    with runtime.db.transaction() as session:
        license = find_license(session, TOKEN)
        assert license is not None
        reads = Reads(license)
        sync_document(
            cast(License, reads), runtime.catalogue, T0, ttl=WEEK, kid=runtime.keyring.active_kid
        )
    etag_inputs = {"id", "revision", "synced_revision", "applications"}
    assert reads.names - etag_inputs == set(DOCUMENT_COLUMNS)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The kind of each statement any engine sends."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]).split()[0].upper())

    event.listen(Engine, "before_cursor_execute", note)
    yield seen
    event.remove(Engine, "before_cursor_execute", note)


def test_r16_an_unchanged_poll_is_one_select(
    runtime: Runtime, clock: Clock, secret: str, statements: list[str]
) -> None:
    """No workflow look-up, no license load, no write: the ETag's inputs and the secret's hash."""
    client = create_app(runtime=runtime).test_client()
    _, etag, _ = poll(client, secret)
    statements.clear()
    assert poll(client, secret, etag)[0] == 304
    assert [kind for kind in statements if kind != "BEGIN"] == ["SELECT"]
