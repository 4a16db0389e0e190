"""`ticketbridge tickets ...`: tickets exported for scripts."""

from __future__ import annotations

import datetime as dt
import json

import click

from ticketbridge.cli.context import State, pass_state


@click.group("tickets")
def tickets_group() -> None:
    """Tickets, for scripts."""


@tickets_group.command("export")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Only tickets changed or written to since this UTC date (or date and time).",
)
@pass_state
def tickets_export(state: State, since: dt.datetime | None) -> None:
    """Print tickets as JSON lines: reference, request type, state, customer, form data,
    messages."""
    from ticketbridge.intake.export import export_tickets

    since_utc = since.replace(tzinfo=dt.UTC) if since is not None else None
    for record in export_tickets(state.services.db, since_utc):
        click.echo(json.dumps(record, ensure_ascii=False, default=str))
