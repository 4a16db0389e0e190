"""R15 key issuing on a stored license, and the `license` CLI: verify, tamper, rotation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fixtures.backends import test_settings as settings_for_test
from tests.licenses.helpers import add_license, issue
from ticketbridge.actors import Actor
from ticketbridge.cli import main
from ticketbridge.clock import utcnow
from ticketbridge.errors import RuleViolation, ValidationError
from ticketbridge.licenses.keys import issue_license_key, verify_license_key
from ticketbridge.licenses.models import LicenseState
from ticketbridge.licenses.signing import keyring_for
from ticketbridge.licenses.sync import derive_sync_secret, find_license, secret_hash
from ticketbridge.runtime import Runtime

NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


def test_r15_issue_key_stores_a_verifiable_key_and_only_the_secrets_hash(
    runtime: Runtime,
) -> None:
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-K", at=NOW)
        issued = issue(session, runtime, license, client_key=" CK-123 ", hash_key="HK-456", now=NOW)
    with runtime.db.transaction() as session:
        license = find_license(session, "SRV-K")
        assert (
            license.license_key == issued.license_key
            and license.license_key_issued_by == Actor.staff("ana")
        )
        assert (license.client_key, license.hash_key) == ("CK-123", "HK-456")
        assert license.sync_secret_hash == secret_hash(issued.sync_secret)
        assert derive_sync_secret(runtime.settings.secret_key, license) == issued.sync_secret
    payload = verify_license_key(runtime.keyring, issued.license_key)
    assert (payload.token, payload.client_key, payload.hash_key) == ("SRV-K", "CK-123", "HK-456")
    assert payload.entitlements["agents"] == 5
    assert issued.sync_secret not in repr(issued)


@pytest.mark.parametrize(
    ("client_key", "hash_key", "field"),
    [("", "HK", "client_key"), ("CK", "has space", "hash_key"), ("C" * 513, "HK", "client_key")],
)
def test_r15_server_keys_are_checked(
    runtime: Runtime, client_key: str, hash_key: str, field: str
) -> None:
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-K", at=NOW)
        with pytest.raises(ValidationError) as error:
            issue(session, runtime, license, client_key=client_key, hash_key=hash_key, now=NOW)
    assert error.value.field == field


def test_r15_no_key_for_a_deactivated_license(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        license = add_license(session, runtime, "SRV-K", at=NOW)
        license.state = LicenseState.DEACTIVATED
        with pytest.raises(RuleViolation, match="deactivated"):
            issue(session, runtime, license, now=NOW)


def _run(instance: Path, *args: str):
    env = {"TICKETBRIDGE_INSTANCE_PATH": str(instance), "TICKETBRIDGE_SECRET_KEY": "s" * 32}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_r15_cli_verify_prints_the_payload_and_refuses_a_tampered_key(tmp_path: Path) -> None:
    settings = settings_for_test(tmp_path)
    key = issue_license_key(
        keyring_for(settings),
        token="SRV-V",
        client_key="CK",
        hash_key="HK",
        entitlements={"agents": 5},
        issued_at=NOW,
    )
    instance = settings.instance_path
    result = _run(instance, "license", "verify", key)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["token"] == "SRV-V"
    tampered = key[:-3] + ("A" if key[-3] != "A" else "B") + key[-2:]
    refused = _run(instance, "license", "verify", tampered)
    assert refused.exit_code == 1 and "altered" in refused.output


def test_r15_cli_rotation_keeps_old_keys_valid_and_signs_with_the_new_one(tmp_path: Path) -> None:
    settings = settings_for_test(tmp_path)
    old_ring = keyring_for(settings)
    old_key = issue_license_key(
        old_ring, token="SRV-R", client_key="CK", hash_key="HK", entitlements={}, issued_at=utcnow()
    )
    rotated = _run(settings.instance_path, "license", "rotate-signing-key")
    assert rotated.exit_code == 0 and old_ring.active_kid not in rotated.output
    assert _run(settings.instance_path, "license", "verify", old_key).exit_code == 0
    new_ring = keyring_for(settings)
    assert new_ring.active_kid != old_ring.active_kid and new_ring.active_kid in rotated.output


def test_r15_configured_signing_key_is_a_secret_and_used(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ticketbridge.config import SECRET_SETTINGS
    from ticketbridge.licenses.keys import key_id

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings = settings_for_test(tmp_path, license_signing_key=pem)
    assert "license_signing_key" in SECRET_SETTINGS
    assert keyring_for(settings).active_kid == key_id(private.public_key())
    assert pem not in repr(settings)
    assert not (settings.instance_path / "license-keys").exists()
