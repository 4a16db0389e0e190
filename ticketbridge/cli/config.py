"""`ticketbridge config ...`: the settings in force, for operators."""

from __future__ import annotations

import json

import click

from ticketbridge.cli.context import State, pass_state
from ticketbridge.config import shown_value


@click.group("config")
def config_group() -> None:
    """Configuration."""


@config_group.command("show")
@pass_state
def config_show(state: State) -> None:
    """Print the settings in force as JSON, secrets and the passwords inside URLs masked."""
    shown = {key: shown_value(key, value) for key, value in vars(state.settings).items()}
    click.echo(json.dumps(shown, indent=2, sort_keys=True))
