"""The `ticketbridge` command: the one entry point for operators.

Core commands (serve, worker, sweep, db, config) live here; each feature package brings its own
group, added at the bottom.
"""

from __future__ import annotations

import json
import logging

import click

from ticketbridge.cli_context import Command, State, pass_state
from ticketbridge.clock import utcnow
from ticketbridge.config import SECRET_SETTINGS
from ticketbridge.intake.cli import mail_group, tickets_group
from ticketbridge.licenses.cli import billing_group, license_group
from ticketbridge.workflow.cli import workflows_group


@click.group(cls=Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
)
def main(log_level: str) -> None:
    """ticketbridge: license requests in, tickets through YAML workflows, outcomes out by email."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(log_level)))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes (1 on SQLite).",
)
@pass_state
def serve(state: State, host: str, port: int, workers: int | None) -> None:
    """Run the web service (migrating the database first); on the embedded default, jobs too."""
    from ticketbridge import migrate
    from ticketbridge.server import run_server

    migrate.upgrade(state.settings.database_url)
    run_server(state.settings, host=host, port=port, workers=workers)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--sweep/--no-sweep",
    default=True,
    show_default=True,
    help="Also re-enqueue due work from the database.",
)
@pass_state
def worker(state: State, burst: bool, sweep: bool) -> None:
    """Run an rq worker (with its scheduler) for TICKETBRIDGE_REDIS_URL."""
    from ticketbridge.worker import run_worker

    run_worker(state.runtime, burst=burst, sweep=sweep)


@main.command("sweep")
@pass_state
def sweep_command(state: State) -> None:
    """Re-enqueue, once, every ticket step and email the database says is due."""
    from ticketbridge.jobs.sweeper import sweep

    runtime = state.runtime
    report = sweep(runtime.db, runtime.jobs, utcnow())
    click.echo(
        f"enqueued {report.tickets} ticket(s), {report.timers} timer(s) and {report.emails} "
        "email(s)"
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_state
def db_upgrade(state: State, revision: str) -> None:
    """Apply migrations up to REVISION; running it again changes nothing."""
    from ticketbridge import migrate

    migrate.upgrade(state.settings.database_url, revision)
    click.echo(f"database at {migrate.current(state.settings.database_url)}")


@db.command("current")
@pass_state
def db_current(state: State) -> None:
    """Print the database's schema revision."""
    from ticketbridge import migrate

    click.echo(
        migrate.current(state.settings.database_url) or "empty (run `ticketbridge db upgrade`)"
    )


@main.group()
def config() -> None:
    """Configuration."""


@config.command("show")
@pass_state
def config_show(state: State) -> None:
    """Print the settings in force as JSON, secrets masked."""
    shown = {
        key: ("***" if key in SECRET_SETTINGS and value else str(value))
        for key, value in vars(state.settings).items()
    }
    click.echo(json.dumps(shown, indent=2, sort_keys=True))


main.add_command(workflows_group)
main.add_command(license_group)
main.add_command(billing_group)
main.add_command(mail_group)
main.add_command(tickets_group)
