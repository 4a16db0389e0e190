"""`ticketbridge license ...`: license keys (R15) checked offline and their signing key rotated."""

from __future__ import annotations

import json

import click

from ticketbridge.cli.context import State, pass_state
from ticketbridge.licenses.keys import verify_license_key
from ticketbridge.licenses.signing import KEY_FOLDER, keyring_for


@click.group("license")
def license_group() -> None:
    """License keys (R15)."""


@license_group.command("verify")
@click.argument("key")
@pass_state
def license_verify(state: State, key: str) -> None:
    """Check a license key offline and print what it grants; exit 1 with the reason if it fails."""
    payload = verify_license_key(keyring_for(state.settings), key.strip())
    click.echo(
        json.dumps(
            {
                "kid": payload.kid,
                "issued_at": payload.issued_at.isoformat(),
                "token": payload.token,
                "client_key": payload.client_key,
                "hash_key": payload.hash_key,
                "entitlements": payload.entitlements,
            },
            indent=2,
            sort_keys=True,
        )
    )


@license_group.command("rotate-signing-key")
@pass_state
def license_rotate(state: State) -> None:
    """Embedded default only: sign new keys with a new key; keys issued before keep verifying."""
    from ticketbridge.licenses.keys import KeyRing

    settings = state.settings
    if settings.license_signing_key:
        raise click.ClickException(
            "the signing key comes from TICKETBRIDGE_LICENSE_SIGNING_KEY; rotate it "
            "there and list the old public key in license_public_keys"
        )
    click.echo(f"signing with key {KeyRing.rotate(settings.instance_path / KEY_FOLDER).active_kid}")
