"""R15 license keys: signed documents a customer's server can verify offline.

A key is `TB1.<payload>.<signature>`, both parts unpadded base64url. The payload is
canonical JSON (sorted keys, no spaces) binding the server token, the client and hash keys
the customer read off the server, the entitlements, when it was issued and the id (kid) of
the Ed25519 key that signed it. The signature covers `TB1.<payload>` so the format version is
signed too. Only the canonical base64 spelling is accepted: otherwise a changed padding bit
would leave a valid key that differs from the one issued.

The kid is derived from the public key, so a KeyRing can hold the retired public keys next
to the active private key: keys issued before a rotation keep verifying while their public
key stays in the ring.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ticketbridge.errors import ConfigError, TicketbridgeError

PREFIX = "TB1"
ACTIVE_FILE = "active"  # holds the kid of the signing key in a key folder
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class InvalidLicenseKey(TicketbridgeError):
    """The text is not a license key this service issued: malformed, altered or signed by an unknown
    key."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="license_key")


@dataclass(frozen=True)
class LicenseKeyPayload:
    kid: str
    issued_at: dt.datetime
    token: str
    client_key: str
    hash_key: str
    entitlements: dict[str, int]


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short stable id of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class KeyRing:
    """One active signing key plus every public key whose license keys still verify."""

    signing_key: Ed25519PrivateKey
    public_keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = dict(self.public_keys)
        keys[self.active_kid] = self.signing_key.public_key()
        object.__setattr__(self, "public_keys", keys)

    @cached_property
    def active_kid(self) -> str:
        """Computed once per ring: it goes on every sync answer (R16), the API's hot path."""
        return key_id(self.signing_key.public_key())

    def sign(self, data: bytes) -> str:
        """A detached signature of `data` (unpadded base64url) by the active key, e.g. a sync answer
        (R16)."""
        return b64url(self.signing_key.sign(data))

    @classmethod
    def from_pem(
        cls, private_pem: bytes | str, *, public_pems: Iterable[bytes | str] = ()
    ) -> KeyRing:
        """A ring from configuration: the active private key and the retired public keys, as PEM."""
        signing_key = _load_private(_bytes(private_pem), "the license signing key")
        public_keys = {}
        for pem in public_pems:
            try:
                public = serialization.load_pem_public_key(_bytes(pem))
            except ValueError as exc:
                raise ConfigError(
                    f"a license verification key is not a PEM public key: {exc}"
                ) from exc
            if not isinstance(public, Ed25519PublicKey):
                raise ConfigError(
                    "a license verification key is not an Ed25519 key; "
                    "license keys are signed with Ed25519"
                )
            public_keys[key_id(public)] = public
        return cls(signing_key, public_keys)

    @classmethod
    def load_or_create(cls, folder: Path) -> KeyRing:
        """The embedded default: every `<kid>.pem` in `folder`, signing with the one named in
        `active`.

        On first run the folder, a new key and `active` are created, readable by the owner
        only; older keys left in the folder keep verifying the license keys they signed.
        """
        if not (folder / ACTIVE_FILE).exists():
            return cls.rotate(folder)
        active = (folder / ACTIVE_FILE).read_text(encoding="ascii").strip()
        private_keys = {}
        for path in sorted(folder.glob("*.pem")):
            if path.stat().st_mode & 0o077:
                raise ConfigError(
                    f"{path}: a license signing key must be readable by its owner "
                    f"only; run chmod 600 {path}"
                )
            key = _load_private(path.read_bytes(), str(path))
            if key_id(key.public_key()) != path.stem:
                raise ConfigError(
                    f"{path}: holds key {key_id(key.public_key())}, not {path.stem}; "
                    f"rename it to {key_id(key.public_key())}.pem"
                )
            private_keys[path.stem] = key
        if active not in private_keys:
            raise ConfigError(
                f"{folder / ACTIVE_FILE}: names key {active!r}, but {folder} has no "
                f"{active}.pem; restore that file or name an existing key"
            )
        return cls(
            private_keys[active], {kid: key.public_key() for kid, key in private_keys.items()}
        )

    @classmethod
    def rotate(cls, folder: Path) -> KeyRing:
        """Generate a new signing key in `folder`, make it the active one, and load the ring."""
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        signing_key = Ed25519PrivateKey.generate()
        kid = key_id(signing_key.public_key())
        pem = signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(folder / f"{kid}.pem", pem)
        _write_private(folder / f"{ACTIVE_FILE}.tmp", kid.encode("ascii") + b"\n")
        os.replace(folder / f"{ACTIVE_FILE}.tmp", folder / ACTIVE_FILE)
        return cls.load_or_create(folder)


def issue_license_key(
    keyring: KeyRing,
    *,
    token: str,
    client_key: str,
    hash_key: str,
    entitlements: Mapping[str, int],
    issued_at: dt.datetime,
) -> str:
    """Sign a license key for the server that showed `client_key` and `hash_key` (R15)."""
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware; use ticketbridge.clock.utcnow()")
    payload = {
        "kid": keyring.active_kid,
        "issued_at": issued_at.astimezone(dt.UTC).strftime(_TIME_FORMAT),
        "token": token,
        "client_key": client_key,
        "hash_key": hash_key,
        "entitlements": {key: int(quantity) for key, quantity in entitlements.items()},
    }
    signing_input = f"{PREFIX}.{b64url(canonical_json(payload))}"
    signature = keyring.signing_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


def verify_license_key(
    keys: KeyRing | Mapping[str, Ed25519PublicKey], license_key: str
) -> LicenseKeyPayload:
    """The payload of a genuine, unaltered license key; InvalidLicenseKey for anything else.

    The key is taken exactly as given: callers strip the whitespace a paste adds.
    """
    public_keys = keys.public_keys if isinstance(keys, KeyRing) else keys
    parts = license_key.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise InvalidLicenseKey(
            "This is not a license key: it should start with TB1. and have "
            "three parts separated by dots. Paste the whole key from the email."
        )
    payload_bytes, signature = _b64decode(parts[1]), _b64decode(parts[2])
    try:
        payload = json.loads(payload_bytes)
    except ValueError:
        raise InvalidLicenseKey(
            "The license key is damaged; paste it again from the email."
        ) from None
    if not isinstance(payload, dict) or canonical_json(payload) != payload_bytes:
        raise InvalidLicenseKey("The license key is damaged; paste it again from the email.")
    kid = payload.get("kid")
    public_key = public_keys.get(kid) if isinstance(kid, str) else None
    if public_key is None:
        raise InvalidLicenseKey(
            "The license key was signed with a key this service does not know; "
            "ask the license team for a new key."
        )
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise InvalidLicenseKey(
            "The license key has been altered; paste it again from the email."
        ) from None
    return _payload(payload)


def verify_detached(
    keys: KeyRing | Mapping[str, Ed25519PublicKey], kid: str, data: bytes, signature: str
) -> bool:
    """Whether `signature` (from KeyRing.sign) is the key `kid`'s signature of exactly `data`."""
    public_keys = keys.public_keys if isinstance(keys, KeyRing) else keys
    public_key = public_keys.get(kid)
    if public_key is None:
        return False
    try:
        public_key.verify(_b64decode(signature), data)
    except (InvalidSignature, InvalidLicenseKey):
        return False
    return True


def split_pem_blocks(text: str) -> list[str]:
    """The PEM blocks in `text`, for settings that hold several keys one after another."""
    end = "-----END PUBLIC KEY-----"
    return [block.strip() + "\n" + end + "\n" for block in text.split(end) if block.strip()]


def _payload(data: dict[str, Any]) -> LicenseKeyPayload:
    """Type-check a signed payload; a failure here means a signing bug, still reported as
    invalid."""
    text_fields = ("kid", "issued_at", "token", "client_key", "hash_key")
    entitlements = data.get("entitlements")
    if (
        set(data) != {*text_fields, "entitlements"}
        or not all(isinstance(data[name], str) for name in text_fields)
        or not isinstance(entitlements, dict)
        or not all(type(q) is int for q in entitlements.values())
    ):
        raise InvalidLicenseKey("The license key does not have the expected content.")
    try:
        issued_at = dt.datetime.strptime(data["issued_at"], _TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise InvalidLicenseKey("The license key does not have the expected content.") from None
    return LicenseKeyPayload(
        data["kid"],
        issued_at,
        data["token"],
        data["client_key"],
        data["hash_key"],
        dict(entitlements),
    )


def canonical_json(payload: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, ASCII: one byte string per document, so signatures and ETags are
    stable."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def b64url(data: bytes) -> str:
    """Unpadded base64url, the spelling of every encoded part of a key, signature and sync
    secret."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict unpadded base64url: any other spelling of the same bytes is refused."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        data = None
    if data is None or b64url(data) != text:
        raise InvalidLicenseKey("The license key is damaged; paste it again from the email.")
    return data


def _load_private(pem: bytes, what: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{what} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{what} is not an Ed25519 key; license keys are signed with Ed25519")
    return key


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` readable and writable by the owner only, from its first byte on disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _bytes(value: bytes | str) -> bytes:
    return value.encode("ascii") if isinstance(value, str) else value
