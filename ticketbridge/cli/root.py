"""The `ticketbridge` command: the one entry point for operators.

Each command group lives in its own module of this package; this root group assembles them and,
through `Command`, turns domain errors into one line.
"""

from __future__ import annotations

import logging

import click

from ticketbridge.cli.billing import billing_group
from ticketbridge.cli.config import config_group
from ticketbridge.cli.context import Command, State
from ticketbridge.cli.db import db_group
from ticketbridge.cli.license import license_group
from ticketbridge.cli.mail import mail_group
from ticketbridge.cli.run import serve, sweep_command, worker
from ticketbridge.cli.staff import staff_group
from ticketbridge.cli.tickets import tickets_group
from ticketbridge.cli.workflows import workflows_group


@click.group(cls=Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
)
@click.pass_context
def main(ctx: click.Context, log_level: str) -> None:
    """ticketbridge: license requests in, tickets through YAML workflows, outcomes out by email."""
    ctx.ensure_object(State)
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(log_level)))


for command in (
    serve,
    worker,
    sweep_command,
    db_group,
    config_group,
    workflows_group,
    license_group,
    billing_group,
    mail_group,
    tickets_group,
    staff_group,
):
    main.add_command(command)
