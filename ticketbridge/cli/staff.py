"""`ticketbridge staff ...`: staff accounts (agents and admins) and their API tokens.

Passwords are asked for on the terminal (twice, hidden) or read from standard input with
`--password-stdin`, never taken as an argument that would stay in the shell history.

Each command imports staff.accounts itself: importing it makes an Argon2 hash (a few hundred
milliseconds and 64 MB), which every other `ticketbridge` command, the mail fetcher included,
would otherwise pay at start.
"""

from __future__ import annotations

import sys

import click

from ticketbridge.cli.context import State, pass_state
from ticketbridge.staff.models import StaffRole


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("staff")
def staff_group() -> None:
    """Staff accounts for the staff pages and the staff API."""


@staff_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Shown on every action the person takes.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in StaffRole]),
    default=StaffRole.AGENT.value,
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_state
def staff_create(state: State, email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create an account that can sign in at /staff."""
    from ticketbridge.staff import accounts

    password = _password(password_stdin)
    with state.runtime.db.transaction() as session:
        user = accounts.create_staff(
            session, email=email, name=name, role=StaffRole(role), password=password
        )
        click.echo(f"created {user.role.value} {user.email} ({user.name})")


@staff_group.command("disable")
@click.argument("email")
@pass_state
def staff_disable(state: State, email: str) -> None:
    """Stop an account from signing in; its sessions and API token stop working at once."""
    from ticketbridge.staff import accounts

    with state.runtime.db.transaction() as session:
        user = accounts.disable_staff(session, email)
        click.echo(f"disabled {user.email}")


@staff_group.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_state
def staff_reset_password(state: State, email: str, password_stdin: bool) -> None:
    """Set a new password; the account's other sessions end."""
    from ticketbridge.staff import accounts

    password = _password(password_stdin)
    with state.runtime.db.transaction() as session:
        user = accounts.get_staff(session, email)
        accounts.set_password(user, password)
        click.echo(f"password of {user.email} changed")


@staff_group.command("list")
@pass_state
def staff_list(state: State) -> None:
    """Every account, with its role and whether it is active."""
    from ticketbridge.staff import accounts

    with state.runtime.db.transaction() as session:
        for user in accounts.all_staff(session):
            status = "active" if user.active else "disabled"
            click.echo(f"{user.email}\t{user.name}\t{user.role.value}\t{status}")


@staff_group.command("api-token")
@click.argument("email")
@pass_state
def staff_api_token(state: State, email: str) -> None:
    """Issue a new token for the staff JSON API (printed once; the previous one stops working)."""
    from ticketbridge.staff import accounts

    with state.runtime.db.transaction() as session:
        token = accounts.issue_api_token(accounts.get_staff(session, email))
    click.echo(token)
