"""`ticketbridge mail ...`: the mail fetcher and the quarantine of messages it could not store."""

from __future__ import annotations

import json
import signal
import threading

import click

from ticketbridge.cli.context import State, pass_state


@click.group("mail")
def mail_group() -> None:
    """Inbound email (IMAP)."""


@mail_group.command("fetch")
@click.option(
    "--once",
    is_flag=True,
    help="Fetch what is there now, then exit (for cron); default: keep waiting (IDLE or polling).",
)
@pass_state
def mail_fetch(state: State, once: bool) -> None:
    """Store new mail from TICKETBRIDGE_IMAP_HOST on tickets; SIGTERM or Ctrl-C stops after the
    current batch."""
    from ticketbridge.errors import ConfigError

    runtime = state.runtime
    if not runtime.settings.imap_host:
        raise ConfigError(
            "TICKETBRIDGE_IMAP_HOST: set it (and TICKETBRIDGE_IMAP_USER, "
            "TICKETBRIDGE_IMAP_PASSWORD) to fetch mail"
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        report = runtime.fetcher().run(once=once, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        return
    click.echo(f"{report.total} message(s): {report.summary()}")


@mail_group.command("quarantine")
@pass_state
def mail_quarantine(state: State) -> None:
    """List quarantined messages as JSON lines: where each came from, sender, subject, the error,
    when stored."""
    from ticketbridge.intake.quarantine import list_quarantined

    for held in list_quarantined(state.runtime.db):
        click.echo(json.dumps(held.as_json(), ensure_ascii=False))


@mail_group.command("retry")
@click.argument("inbound_id", metavar="ID", type=int)
@pass_state
def mail_retry(state: State, inbound_id: int) -> None:
    """Store quarantined message ID again, once the cause of its error is fixed; exit status 1 if it
    fails again."""
    from ticketbridge.clock import utcnow
    from ticketbridge.intake.quarantine import retry_quarantined

    runtime = state.runtime
    with runtime.db.transaction() as session:
        result = retry_quarantined(session, inbound_id, utcnow(), ingestor_for=runtime.ingestor)
    click.echo(json.dumps(result.as_json(), ensure_ascii=False))
    if result.still_quarantined:
        raise click.ClickException(f"message {inbound_id} is still quarantined: {result.note}")
