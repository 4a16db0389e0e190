"""Which Ed25519 keys sign license keys and sync answers: from configuration, or the embedded
default.

Production sets the private key through the environment (a secret, never in a file of the
repository) and lists retired public keys in `license_public_keys`. The embedded default
keeps its keys, retired ones included, in the instance folder and generates the first on
first run; the folder is locked meanwhile because every gunicorn worker builds its runtime
at start-up, and two workers generating two different "first" keys would each sign with a
key the other does not know.
"""

from __future__ import annotations

import fcntl

from ticketbridge.config import Settings
from ticketbridge.licenses.keys import KeyRing, split_pem_blocks

KEY_FOLDER = "license-keys"


def keyring_for(settings: Settings) -> KeyRing:
    if settings.license_signing_key:
        return KeyRing.from_pem(
            settings.license_signing_key, public_pems=split_pem_blocks(settings.license_public_keys)
        )
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    with open(settings.instance_path / f"{KEY_FOLDER}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return KeyRing.load_or_create(settings.instance_path / KEY_FOLDER)
