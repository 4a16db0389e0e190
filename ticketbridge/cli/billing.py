"""`ticketbridge billing ...`: invoice previews for operators (R11, R12)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click

from ticketbridge.cli.context import State, pass_state


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
