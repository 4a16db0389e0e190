"""The per-recipient rate cap holds (never drops) mail over the cap; `tickets export` prints
JSON lines with what staff see."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import select

from tests.mail.mailbuild import email, fetch_once, sent_emails, tickets
from ticketbridge.cli import main
from ticketbridge.cli.context import State
from ticketbridge.clock import utcnow
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus


def test_mail_over_the_hourly_cap_is_held_with_a_timeline_event(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url, mail_rate_cap_per_hour=2)
    for number in range(3):
        imap_mailbox.append(email(subject=f"Request {number}", text=f"number {number}"))
    fetch_once(runtime)

    assert len(tickets(runtime)) == 3
    assert len(sent_emails(runtime)) == 2
    with runtime.db.transaction() as session:
        held = session.scalars(
            select(OutboxEmail).where(OutboxEmail.status == OutboxStatus.PENDING)
        ).one()
        assert held.next_attempt_at >= utcnow() + dt.timedelta(minutes=59)
    third = tickets(runtime)[2]
    assert any(
        e.kind == "email_held" and "cap of 2 emails per hour" in e.summary for e in third.events
    )


def test_tickets_export_prints_json_lines(make_mail_runtime, imap_mailbox, db_url) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    imap_mailbox.append(
        email(
            subject="Export me",
            text="The new text.\n\nOn Mon, 3 Mar 2025 at 10:15, Team wrote:\n> old",
        )
    )
    fetch_once(runtime)
    state = State()
    state._settings, state._runtime = runtime.settings, runtime

    result = CliRunner().invoke(main, ["tickets", "export"], obj=state)
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    record = json.loads(line)
    assert (record["reference"], record["request_type"], record["state"]) == (
        "LIC-000001",
        "general",
        "received",
    )
    assert record["customer"] == {"name": "Olga Nowak", "email": "ops@acme.example"}
    assert record["form_data"]["subject"] == "Export me"
    inbound, receipt = record["messages"]
    assert (inbound["direction"], inbound["text"], inbound["attachments"]) == (
        "in",
        "The new text.",
        [],
    )
    assert receipt["direction"] == "out" and receipt["message_id"].endswith("@tickets.test>")

    later = CliRunner().invoke(
        main,
        ["tickets", "export", "--since", (utcnow() + dt.timedelta(days=1)).strftime("%Y-%m-%d")],
        obj=state,
    )
    assert later.exit_code == 0 and later.output == ""
