"""R15 license keys: signed, verifiable offline, tamper-evident, and rotatable by kid."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ticketbridge.errors import ConfigError, TicketbridgeError
from ticketbridge.licenses.keys import (
    InvalidLicenseKey,
    KeyRing,
    LicenseKeyPayload,
    b64url,
    canonical_json,
    issue_license_key,
    verify_license_key,
)

ISSUED = dt.datetime(2028, 2, 29, 12, 30, 5, tzinfo=dt.UTC)
ENTITLEMENTS = {"agents": 5, "admins": 1, "webrtc": 1, "botify": 1}


def issue(ring: KeyRing, **overrides: object) -> str:
    fields: dict[str, object] = dict(
        token="TOKEN-1",
        client_key="client-abc",
        hash_key="hash-xyz",
        entitlements=ENTITLEMENTS,
        issued_at=ISSUED,
    )
    fields.update(overrides)
    return issue_license_key(ring, **fields)  # type: ignore[arg-type]


def pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_pem(pem(Ed25519PrivateKey.generate()))


def test_r15_license_key_round_trip(ring: KeyRing) -> None:
    key = issue(ring)
    assert key.startswith("TB1.") and key.count(".") == 2
    assert verify_license_key(ring, key) == LicenseKeyPayload(
        kid=ring.active_kid,
        issued_at=ISSUED,
        token="TOKEN-1",
        client_key="client-abc",
        hash_key="hash-xyz",
        entitlements=ENTITLEMENTS,
    )
    assert verify_license_key(ring.public_keys, key).token == "TOKEN-1"  # public keys alone suffice


def test_r15_payload_is_canonical_json(ring: KeyRing) -> None:
    import base64

    payload = issue(ring).split(".")[1]
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert " " not in text and text.startswith('{"client_key":')
    assert f'"issued_at":"2028-02-29T12:30:05Z","kid":"{ring.active_kid}"' in text


def test_r15_changing_any_character_of_a_key_fails_verification(ring: KeyRing) -> None:
    key = issue(ring)
    for position, char in enumerate(key):
        for replacement in ("A", "_") if char not in "A_" else ("B", "-"):
            altered = key[:position] + replacement + key[position + 1 :]
            with pytest.raises(InvalidLicenseKey):
                verify_license_key(ring, altered)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k[:-1],
        lambda k: k + "A",
        lambda k: k + ".",
        lambda k: " " + k,
        lambda k: k + "\n",
        lambda k: k.replace("TB1.", "TB2."),
        lambda k: k.split(".", 1)[1],
        lambda k: "",
        lambda k: "TB1..",
        lambda k: k.replace(".", "é", 1),
    ],
)
def test_r15_malformed_keys_are_refused(ring: KeyRing, mangle) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidLicenseKey) as caught:
        verify_license_key(ring, mangle(issue(ring)))
    assert isinstance(caught.value, TicketbridgeError) and caught.value.field == "license_key"


def test_r15_resigned_payload_with_a_borrowed_kid_fails(ring: KeyRing) -> None:
    genuine = verify_license_key(ring, issue(ring))
    forged_payload = {
        "kid": genuine.kid,
        "issued_at": "2028-02-29T12:30:05Z",
        "token": "TOKEN-1",
        "client_key": "client-abc",
        "hash_key": "hash-xyz",
        "entitlements": {**ENTITLEMENTS, "agents": 500},
    }
    signing_input = f"TB1.{b64url(canonical_json(forged_payload))}"
    signature = Ed25519PrivateKey.generate().sign(signing_input.encode())
    with pytest.raises(InvalidLicenseKey, match="altered"):
        verify_license_key(ring, f"{signing_input}.{b64url(signature)}")


def test_r15_unknown_kid_fails(ring: KeyRing) -> None:
    other = KeyRing.from_pem(pem(Ed25519PrivateKey.generate()))
    with pytest.raises(InvalidLicenseKey, match="does not know"):
        verify_license_key(other, issue(ring))


def test_r15_rotation_keeps_old_keys_verifying(tmp_path: Path) -> None:
    old_ring = KeyRing.load_or_create(tmp_path / "keys")
    old_key = issue(old_ring)
    new_ring = KeyRing.rotate(tmp_path / "keys")
    assert new_ring.active_kid != old_ring.active_kid
    assert set(new_ring.public_keys) == {old_ring.active_kid, new_ring.active_kid}
    new_key = issue(new_ring)
    assert verify_license_key(new_ring, old_key).kid == old_ring.active_kid
    assert verify_license_key(new_ring, new_key).kid == new_ring.active_kid
    reloaded = KeyRing.load_or_create(tmp_path / "keys")
    assert reloaded.active_kid == new_ring.active_kid
    # once the old key is dropped from the ring, what it signed no longer verifies
    (tmp_path / "keys" / f"{old_ring.active_kid}.pem").unlink()
    with pytest.raises(InvalidLicenseKey, match="does not know"):
        verify_license_key(KeyRing.load_or_create(tmp_path / "keys"), old_key)


def test_r15_from_pem_with_retired_public_keys() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old_key = issue(KeyRing.from_pem(pem(old)))
    old_public = old.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ring = KeyRing.from_pem(pem(new).decode(), public_pems=[old_public.decode()])
    assert verify_license_key(ring, old_key).token == "TOKEN-1"
    with pytest.raises(InvalidLicenseKey):
        verify_license_key(KeyRing.from_pem(pem(new)), old_key)


def test_r15_embedded_keys_are_owner_only_pem_files(tmp_path: Path) -> None:
    folder = tmp_path / "instance" / "license-keys"
    ring = KeyRing.load_or_create(folder)
    key_file = folder / f"{ring.active_kid}.pem"
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert KeyRing.load_or_create(folder).active_kid == ring.active_kid
    os.chmod(key_file, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        KeyRing.load_or_create(folder)


def test_r15_bad_configured_keys_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        KeyRing.from_pem("not a key")
    folder = tmp_path / "keys"
    ring = KeyRing.load_or_create(folder)
    (folder / "active").write_text("0123456789abcdef\n")
    with pytest.raises(ConfigError, match="no\\s+0123456789abcdef.pem"):
        KeyRing.load_or_create(folder)
    (folder / "active").write_text(ring.active_kid)
    (folder / f"{ring.active_kid}.pem").rename(folder / "renamed.pem")
    with pytest.raises(ConfigError, match="rename it"):
        KeyRing.load_or_create(folder)


def test_r15_issued_at_must_be_aware(ring: KeyRing) -> None:
    with pytest.raises(ValueError):
        issue(ring, issued_at=dt.datetime(2028, 1, 1))
