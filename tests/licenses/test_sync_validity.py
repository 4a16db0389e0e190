"""R16, issue 8 item 16: a signed sync answer says when it was issued and until when it is valid,
inside what is signed, so a captured answer cannot be replayed to a server forever;
`ticketbridge license verify --answer` checks both."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.licenses.helpers import add_license, issue
from ticketbridge.app import create_app
from ticketbridge.cli import main
from ticketbridge.clock import utcnow
from ticketbridge.errors import ConfigError
from ticketbridge.licenses.sync import sync_document, validity
from ticketbridge.runtime import Runtime

WEEK = dt.timedelta(days=7)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, TIME_FORMAT).replace(tzinfo=dt.UTC)


def fetch(runtime: Runtime) -> tuple[bytes, str, str]:
    """A license with a key, then its sync answer through the API: body, signature, key id."""
    now = utcnow()
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-T", at=now)
        secret = issue(
            session, runtime, license, client_key="CK", hash_key="HK", now=now
        ).sync_secret
    response = (
        create_app(runtime=runtime)
        .test_client()
        .get("/api/v1/licenses/SRV-T", headers={"Authorization": f"Bearer {secret}"})
    )
    assert response.status_code == 200
    return (
        response.data,
        response.headers["X-License-Signature"],
        response.headers["X-License-Key-Id"],
    )


def verify(runtime: Runtime, tmp_path: Path, body: bytes, *options: str) -> Result:
    answer = tmp_path / "answer.json"
    answer.write_bytes(body)
    env = {
        "TICKETBRIDGE_INSTANCE_PATH": str(runtime.settings.instance_path),
        "TICKETBRIDGE_SECRET_KEY": runtime.settings.secret_key,
    }
    return CliRunner().invoke(
        main, ["license", "verify", "--answer", str(answer), *options], env=env
    )


def test_r16_the_answer_is_dated_and_valid_for_the_configured_ttl(runtime: Runtime) -> None:
    before = utcnow()
    body, _, _ = fetch(runtime)
    document = json.loads(body)
    issued_at, valid_until = parse(document["issued_at"]), parse(document["valid_until"])
    assert valid_until - issued_at == runtime.settings.license_sync_ttl == WEEK
    assert before - WEEK / 4 <= issued_at <= utcnow()


def test_r16_polls_within_a_quarter_of_the_ttl_get_the_same_bytes() -> None:
    """So the ETag and 304 keep working; every answer has three quarters of its TTL left."""
    start, _ = validity(dt.datetime(2026, 11, 2, tzinfo=dt.UTC), WEEK)
    step = WEEK / 4
    assert validity(start, WEEK) == validity(start + step - dt.timedelta(seconds=1), WEEK)
    assert validity(start + step, WEEK)[0] == start + step
    for offset in (dt.timedelta(0), step / 2, step - dt.timedelta(seconds=1)):
        issued_at, valid_until = validity(start + offset, WEEK)
        assert valid_until - (start + offset) > WEEK * 3 / 4


def test_r16_license_verify_accepts_a_fresh_answer_and_refuses_it_altered(
    runtime: Runtime, tmp_path: Path
) -> None:
    body, signature, kid = fetch(runtime)
    fresh = verify(runtime, tmp_path, body, "--signature", signature, "--key-id", kid)
    assert fresh.exit_code == 0, fresh.output
    shown = json.loads(fresh.output)
    assert (shown["token"], shown["kid"]) == ("SRV-T", kid)
    assert shown["valid_until"] == json.loads(body)["valid_until"]
    later = body.replace(b'"valid_until":"', b'"valid_until":"2' + b"9")
    altered = verify(runtime, tmp_path, later, "--signature", signature, "--key-id", kid)
    assert (altered.exit_code, altered.output) == (
        1,
        "Error: The signature does not match: the answer was altered, or signed by a key this "
        "service does not know.\n",
    )


def test_r16_license_verify_refuses_an_answer_past_its_valid_until(
    runtime: Runtime, tmp_path: Path
) -> None:
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-OLD", at=utcnow())
        old = sync_document(
            license,
            runtime.catalogue,
            utcnow() - dt.timedelta(days=8),
            ttl=WEEK,
            kid=runtime.keyring.active_kid,
        ).body
    valid_until = json.loads(old)["valid_until"]
    keyring = runtime.keyring
    result = verify(
        runtime, tmp_path, old, "--signature", keyring.sign(old), "--key-id", keyring.active_kid
    )
    assert (result.exit_code, result.output) == (
        1,
        f"Error: The answer expired at {valid_until}; fetch a fresh one from the license server.\n",
    )


def test_r16_an_undated_answer_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    """An answer signed before answers were dated would otherwise be valid forever."""
    undated = b'{"state":"active","token":"SRV-T"}'
    keyring = runtime.keyring
    result = verify(
        runtime,
        tmp_path,
        undated,
        "--signature",
        keyring.sign(undated),
        "--key-id",
        keyring.active_kid,
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: The answer has no issued_at and valid_until")


def test_r16_license_verify_names_the_missing_option(runtime: Runtime, tmp_path: Path) -> None:
    result = verify(runtime, tmp_path, b"{}", "--signature", "x")
    assert (result.exit_code, result.output) == (
        1,
        "Error: --answer: goes with --signature and --key-id (its headers), and without a KEY\n",
    )


def test_r16_the_ttl_is_a_setting_from_an_hour_to_a_year(make_runtime, db_url: str) -> None:
    hourly = make_runtime(database_url=db_url, license_sync_ttl_seconds=3600)
    body, _, _ = fetch(hourly)
    document = json.loads(body)
    assert parse(document["valid_until"]) - parse(document["issued_at"]) == dt.timedelta(hours=1)
    with pytest.raises(ConfigError, match="LICENSE_SYNC_TTL_SECONDS: must be from 3600"):
        make_runtime(database_url=db_url, license_sync_ttl_seconds=60)
