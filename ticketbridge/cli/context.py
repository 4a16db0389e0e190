"""What every `ticketbridge` subcommand shares: lazily built settings and runtime, and the one
place where domain errors become a CLI message.

Each command group lives in its own module of this package and takes the state with
`@pass_state`; cli/root.py assembles them under the root group, whose `Command` class is the
one place errors are mapped.
"""

from __future__ import annotations

from typing import Any

import click

from ticketbridge import migrate
from ticketbridge.config import Settings, load_settings
from ticketbridge.errors import TicketbridgeError
from ticketbridge.outages import as_outage
from ticketbridge.runtime import Runtime, build_runtime


class Command(click.Group):
    """Domain errors, and the outages of the database and Redis, become one line on stderr and
    exit status 1, here and nowhere else."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TicketbridgeError as exc:
            raise click.ClickException(exc.message) from None
        except Exception as exc:
            state = ctx.find_object(State)
            settings = state.loaded_settings if state is not None else None
            if settings is None:
                raise
            outage = as_outage(
                exc, database_url=settings.database_url, redis_url=settings.redis_url
            )
            if outage is None:
                raise
            raise click.ClickException(outage.message) from None


class State:
    """Settings and runtime, built on first use so `--help` works with any configuration."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def loaded_settings(self) -> Settings | None:
        """The settings if a command has loaded them (an error message may name their URLs)."""
        return self._settings

    @property
    def runtime(self) -> Runtime:
        """Built only on a database migrated to this code's schema."""
        if self._runtime is None:
            migrate.require_head(self.settings.database_url)
            self._runtime = build_runtime(self.settings)
        return self._runtime


pass_state = click.make_pass_decorator(State, ensure=True)
