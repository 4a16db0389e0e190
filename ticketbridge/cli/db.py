"""`ticketbridge db ...`: the database schema, migrated with alembic."""

from __future__ import annotations

import click

from ticketbridge.cli.context import State, pass_state


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_state
def db_upgrade(state: State, revision: str) -> None:
    """Apply migrations up to REVISION; running it again changes nothing."""
    from ticketbridge import migrate

    migrate.upgrade(state.settings.database_url, revision)
    click.echo(f"database at {migrate.current(state.settings.database_url)}")


@db_group.command("current")
@pass_state
def db_current(state: State) -> None:
    """Print the database's schema revision."""
    from ticketbridge import migrate

    click.echo(
        migrate.current(state.settings.database_url) or "empty (run `ticketbridge db upgrade`)"
    )
