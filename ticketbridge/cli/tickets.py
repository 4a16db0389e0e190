"""`ticketbridge tickets ...`: tickets exported for scripts, shown to and acted on by operators."""

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
@click.option(
    "--with-mail-on-no-ticket",
    is_flag=True,
    help='Then the kept inbound mail that is on no ticket, with why ("record": '
    '"mail_on_no_ticket"): auto-replies and bounces matching none, mail without a sender, '
    "quarantined mail.",
)
@pass_state
def tickets_export(state: State, since: dt.datetime | None, with_mail_on_no_ticket: bool) -> None:
    """Print tickets as JSON lines: reference, request type, state, customer, form data,
    messages."""
    from ticketbridge.intake.export import export_tickets
    from ticketbridge.intake.unticketed import mail_on_no_ticket

    since_utc = since.replace(tzinfo=dt.UTC) if since is not None else None
    for record in export_tickets(state.runtime.db, since_utc):
        click.echo(json.dumps(record, ensure_ascii=False, default=str))
    if with_mail_on_no_ticket:
        for mail in mail_on_no_ticket(state.runtime.db, since=since_utc):
            click.echo(json.dumps(mail.as_json(), ensure_ascii=False))


@tickets_group.command("show")
@click.argument("reference")
@pass_state
def tickets_show(state: State, reference: str) -> None:
    """Where ticket REFERENCE stands: state, who it waits on, the staff actions open now with the
    fields each requires, and its pending timers."""
    from ticketbridge.clock import utcnow
    from ticketbridge.tickets.operator import (
        describe_field,
        open_actions,
        pending_timers,
        ticket_by_reference,
    )

    runtime = state.runtime
    now = utcnow()
    with runtime.db.transaction() as session:
        ticket = ticket_by_reference(session, reference)
        workflow = runtime.engine.workflow_of(session, ticket)
        status = (
            f"closed: {ticket.outcome}" if ticket.outcome else f"waiting on {ticket.waiting_on}"
        )
        click.echo(f"{ticket.reference}\t{ticket.request_type}\t{ticket.state} ({status})")
        click.echo(f"  {workflow.states[ticket.state].description}")
        if ticket.license is not None:
            click.echo(f"  license {ticket.license.token}: {ticket.license.state.value}")
        if ticket.last_error:
            click.echo(f"  last error: {ticket.last_error}")
        actions = open_actions(runtime.engine, session, ticket, now)
        click.echo("  actions open now:" if actions else "  no staff action is open now")
        for action in actions:
            trigger = action.transition.trigger
            guard = action.transition.guard
            refused = "" if action.possible or guard is None else f" — not now: {guard.source}"
            click.echo(f"    {action.transition.name}: “{trigger.label}” ({trigger.role}){refused}")
            for field in trigger.fields:
                click.echo(f"        --set {describe_field(field)}")
        for timer in pending_timers(session, ticket):
            click.echo(f"  timer {timer.transition} due {timer.due_at:%Y-%m-%d %H:%M} UTC")


def _assignments(values: tuple[str, ...]) -> dict[str, object]:
    """`--set name=value`, repeatable; a name given twice collects a list (multi-choice)."""
    fields: dict[str, object] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not name=value", param_hint="--set")
        name = name.strip()
        if name in fields:
            previous = fields[name]
            fields[name] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            fields[name] = value
    return fields


@tickets_group.command("act")
@click.argument("reference")
@click.argument("transition")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A field of the action; repeat it for each field (and for each choice of a list).",
)
@click.option("--as", "staff_email", required=True, metavar="STAFF", help="Your staff email.")
@pass_state
def tickets_act(
    state: State, reference: str, transition: str, assignments: tuple[str, ...], staff_email: str
) -> None:
    """Take staff action TRANSITION on ticket REFERENCE, checked as on the staff pages."""
    from ticketbridge.clock import utcnow
    from ticketbridge.staff.actions import Staff, act
    from ticketbridge.tickets.operator import staff_member, ticket_by_reference

    fields = _assignments(assignments)
    runtime = state.runtime
    with runtime.db.transaction() as session:
        ticket = ticket_by_reference(session, reference, lock=True)
        staff = Staff.of(staff_member(session, staff_email))
        taken = act(session, runtime, ticket, staff, transition, fields, now=utcnow())
        reference = ticket.reference
    with runtime.db.transaction() as session:
        ticket = ticket_by_reference(session, reference)
        click.echo(f"{reference}: {taken.trigger.label} → {ticket.state}")
