"""`ticketbridge license ...`: license keys (R15) checked offline and their signing key rotated."""

from __future__ import annotations

import json
from typing import Any, BinaryIO

import click

from ticketbridge.cli.context import State, pass_state
from ticketbridge.clock import utcnow
from ticketbridge.errors import ValidationError
from ticketbridge.licenses.keys import LicenseKeyPayload, verify_license_key
from ticketbridge.licenses.signing import KEY_FOLDER, keyring_for
from ticketbridge.licenses.sync import verify_sync_answer


@click.group("license")
def license_group() -> None:
    """License keys (R15)."""


@license_group.command("verify")
@click.argument("key", required=False)
@click.option(
    "--answer",
    type=click.File("rb"),
    help="Verify a sync answer instead: the body exactly as the server received it.",
)
@click.option("--signature", help="The answer's X-License-Signature header.")
@click.option("--key-id", help="The answer's X-License-Key-Id header.")
@pass_state
def license_verify(
    state: State,
    key: str | None,
    answer: BinaryIO | None,
    signature: str | None,
    key_id: str | None,
) -> None:
    """Check a license KEY, or a sync answer (--answer with --signature and --key-id), offline:
    print what it grants; exit 1 with the reason if it fails (a sync answer also when it is past
    its valid_until)."""
    keyring = keyring_for(state.settings)
    if answer is None:
        if key is None:
            raise ValidationError(
                {"KEY": ["give a license key, or --answer FILE for a sync answer"]}
            )
        click.echo(json.dumps(_key_json(verify_license_key(keyring, key.strip())), indent=2))
        return
    if key is not None or not signature or not key_id:
        raise ValidationError(
            {"--answer": ["goes with --signature and --key-id (its headers), and without a KEY"]}
        )
    document = verify_sync_answer(keyring, key_id, answer.read(), signature.strip(), utcnow())
    click.echo(json.dumps({"kid": key_id, **document}, indent=2, sort_keys=True))


def _key_json(payload: LicenseKeyPayload) -> dict[str, Any]:
    return {
        "client_key": payload.client_key,
        "entitlements": payload.entitlements,
        "hash_key": payload.hash_key,
        "issued_at": payload.issued_at.isoformat(),
        "kid": payload.kid,
        "token": payload.token,
    }


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
