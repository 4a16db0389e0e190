"""R15 key-based activation: once staff have verified a server, issue its license key and sync
secret.

The key binds the token, the client and hash keys the customer read off the server, and the
entitlements at issue time; later feature changes reach the server by sync (R16), so a key is
issued again only when the server or its token changes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.errors import RuleViolation, ValidationError
from ticketbridge.licenses.keys import KeyRing, issue_license_key
from ticketbridge.licenses.models import License
from ticketbridge.licenses.sync import SERVING_STATES, derive_sync_secret, secret_hash

# What the server prints under License -> License Usage: visible ASCII, no spaces.
_SERVER_KEY = re.compile(r"[\x21-\x7e]{1,512}")


@dataclass(frozen=True)
class IssuedKey:
    license_key: str
    sync_secret: str = field(repr=False)


def issue_key(
    session: Session,
    license: License,
    *,
    keyring: KeyRing,
    secret_key: str,
    client_key: str,
    hash_key: str,
    actor: Actor,
    now: dt.datetime,
) -> IssuedKey:
    """Sign and store the license key for this server; return it with the sync secret (flushed, not
    committed)."""
    keys = {"client_key": client_key.strip(), "hash_key": hash_key.strip()}
    errors = {
        name: [
            f"paste the {name.replace('_', ' ')} exactly as the server shows it "
            "(License > License Usage): 1 to 512 characters, no spaces"
        ]
        for name, value in keys.items()
        if not _SERVER_KEY.fullmatch(value)
    }
    if errors:
        raise ValidationError(errors)
    if license.state not in SERVING_STATES:
        raise RuleViolation(
            "R15",
            f"Server token {license.token} is {license.state.value.replace('_', ' ')}; "
            "a license key is issued only for a license in trial, active or grace.",
        )
    license.client_key, license.hash_key = keys["client_key"], keys["hash_key"]
    license.license_key = issue_license_key(
        keyring,
        token=license.token,
        client_key=keys["client_key"],
        hash_key=keys["hash_key"],
        entitlements=license.entitlements or {},
        issued_at=now,
    )
    license.license_key_issued_at = now
    license.license_key_issued_by = actor
    session.flush()
    secret = derive_sync_secret(secret_key, license)
    license.sync_secret_hash = secret_hash(secret)
    session.flush()
    return IssuedKey(license.license_key, secret)
