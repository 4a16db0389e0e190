"""`ticketbridge serve`, `worker` and `sweep`: the commands that run the service's processes."""

from __future__ import annotations

import click

from ticketbridge.cli.context import State, pass_state
from ticketbridge.clock import utcnow
from ticketbridge.lifeline import forks_die_with_their_parent


@click.command()
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
    forks_die_with_their_parent()
    run_server(state.settings, host=host, port=port, workers=workers)


@click.command()
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

    forks_die_with_their_parent()
    run_worker(state.runtime, burst=burst, sweep=sweep)


@click.command("sweep")
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
