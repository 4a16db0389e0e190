"""`ticketbridge license ...` and `ticketbridge billing ...`: license keys and invoice previews for
operators.

Registered on the main command, whose group turns domain errors (an invalid key) into one
line on stderr and exit status 1.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import click

from ticketbridge.cli_context import State, pass_state
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


@click.group("billing")
def billing_group() -> None:
    """Invoices (R11, R12)."""


def _month(_ctx: click.Context, _param: click.Parameter, value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a month; write it as YYYY-MM, e.g. 2026-11"
        ) from None


@billing_group.command("preview")
@click.option(
    "--month",
    required=True,
    callback=_month,
    help="The month whose last day dates the invoice, YYYY-MM.",
)
@pass_state
def billing_preview(state: State, month: dt.date) -> None:
    """List each paid license's invoice lines: item, kind, quantity, period, fraction of it,
    amount."""
    from ticketbridge.licenses.invoicing import invoices_for_month

    runtime = state.runtime
    catalogue = runtime.catalogue
    with runtime.db.transaction() as session:
        invoices = invoices_for_month(session, catalogue, month)
    note = " (example prices)" if catalogue.prices_are_examples else ""
    for invoice in invoices:
        total = sum((line.amount for line in invoice.lines), start=Decimal(0))
        click.echo(
            f"{invoice.token}\t{invoice.cycle.frequency}\ttotal {total:.2f} "
            f"{catalogue.currency}{note}"
        )
        for line in invoice.lines:
            click.echo(
                f"  {line.item}\t{line.kind.value}\t{line.quantity}\t"
                f"{line.period_start}..{line.period_end}"
                f"\t{line.fraction}\t{line.amount:.2f}"
            )
    if not invoices:
        click.echo("no paid licenses")
