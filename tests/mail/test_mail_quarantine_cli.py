"""Staff see quarantined mail (`ticketbridge mail quarantine`) and store it once the cause is fixed
(`ticketbridge mail retry ID`); a message that fails again stays quarantined with the new error."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from tests.mail.mailbuild import email, fetch_once, sent_emails, tickets
from ticketbridge.cli import main
from ticketbridge.cli.context import State
from ticketbridge.intake.email import ingest
from ticketbridge.intake.mailbox.fetcher import mailbox_name
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus
from ticketbridge.outbox.models import OutboxEmail
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Message

POISON_SUBJECT = "Lizenz für Köln"
REAL_EXTRACT = ingest.extract_reply


def failing_with(message: str) -> Callable[..., str]:
    """extract_reply standing for a parser bug that a mail containing POISON triggers."""

    def extract(text: str, html: str | None = None, quote_start: str | None = None) -> str:
        if "POISON" in text:
            raise ValueError(message)
        return REAL_EXTRACT(text, html, quote_start)

    return extract


def cli(runtime: Runtime, *args: str) -> Result:
    state = State()
    state._settings, state._runtime = runtime.settings, runtime
    return CliRunner().invoke(main, ["mail", *args], obj=state)


def quarantined(runtime: Runtime) -> list[dict]:
    result = cli(runtime, "quarantine")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


@pytest.fixture
def poisoned(
    make_mail_runtime, imap_mailbox, db_url, monkeypatch
) -> tuple[Runtime, bytes, int | None]:
    """A good mail and a poison one behind it, fetched: one ticket, one quarantined message."""
    monkeypatch.setattr(ingest, "extract_reply", failing_with("parser bug #1"))
    runtime = make_mail_runtime(database_url=db_url)
    imap_mailbox.append(email(sender="a@acme.example", text="fine"))
    poison = email(
        sender="Zoë Brandt <zoe@acme.example>",
        subject=POISON_SUBJECT,
        text="POISON inside",
        message_id="<poison@acme.example>",
    )
    uid = imap_mailbox.append(poison)
    report = fetch_once(runtime)
    assert (report.counts[InboundStatus.STORED], report.counts[InboundStatus.QUARANTINED]) == (1, 1)
    return runtime, poison, uid


def test_quarantine_lists_each_held_message_as_a_json_line(poisoned, imap_mailbox) -> None:
    runtime, _, uid = poisoned
    [held] = quarantined(runtime)
    assert set(held) == {
        "record",
        "id",
        "mailbox",
        "folder",
        "uidvalidity",
        "uid",
        "message_id",
        "from",
        "subject",
        "kind",
        "status",
        "why",
        "text",
        "received_at",
    }
    assert (held["mailbox"], held["folder"], held["uid"]) == (
        mailbox_name(runtime.settings),
        "INBOX",
        uid,
    )
    assert (held["from"], held["subject"], held["message_id"]) == (
        "Zoë Brandt <zoe@acme.example>",
        POISON_SUBJECT,
        "<poison@acme.example>",
    )
    assert (held["status"], held["why"]) == ("quarantined", "ValueError: parser bug #1")
    assert held["text"] == "POISON inside"
    assert held["received_at"].endswith("+00:00")


def test_retry_of_a_still_poisonous_message_keeps_it_quarantined_with_the_new_error(
    poisoned, monkeypatch
) -> None:
    runtime, _, _ = poisoned
    [held] = quarantined(runtime)
    monkeypatch.setattr(ingest, "extract_reply", failing_with("parser bug #2"))

    result = cli(runtime, "retry", str(held["id"]))

    assert result.exit_code == 1
    first_line, _ = result.output.split("\n", 1)
    assert json.loads(first_line) == {
        "id": held["id"],
        "status": "quarantined",
        "ticket": None,
        "note": "ValueError: parser bug #2",
    }
    assert "still quarantined: ValueError: parser bug #2" in result.output
    [again] = quarantined(runtime)
    assert again == {**held, "why": "ValueError: parser bug #2"}
    assert inbound_rows(runtime) == 2
    assert len(tickets(runtime)) == 1


def test_retry_once_the_cause_is_fixed_stores_the_message_like_any_other(
    poisoned, monkeypatch, imap_mailbox
) -> None:
    runtime, poison, _ = poisoned
    [held] = quarantined(runtime)
    monkeypatch.setattr(ingest, "extract_reply", REAL_EXTRACT)

    result = cli(runtime, "retry", str(held["id"]))

    assert result.exit_code == 0, result.output
    [first, opened] = tickets(runtime)
    assert json.loads(result.output) == {
        "id": held["id"],
        "status": "stored",
        "ticket": opened.reference,
        "note": f"opened {opened.reference}",
    }
    assert quarantined(runtime) == []
    with runtime.db.transaction() as session:
        row = session.get(InboundEmail, held["id"])
        assert (row.status, row.raw, row.dedupe_key) == (
            InboundStatus.STORED,
            poison,
            "mid:<poison@acme.example>",
        )
        message = session.scalars(
            select(Message).where(Message.message_id == "<poison@acme.example>")
        ).one()
        assert (row.ticket_id, row.message_row_id) == (message.ticket_id, message.id)
        receipts = session.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .join(Message, OutboxEmail.message_id == Message.id)
            .where(Message.ticket_id == row.ticket_id)
        )
    assert receipts == 1
    assert (first.customer.email, opened.customer.email, opened.messages[0].text_body) == (
        "a@acme.example",
        "zoe@acme.example",
        "POISON inside",
    )
    assert len(sent_emails(runtime)) == 2
    assert inbound_rows(runtime) == 2

    assert fetch_once(runtime).total == 0
    refused = cli(runtime, "retry", str(held["id"]))
    assert refused.exit_code == 1 and "is not quarantined (it is stored)" in refused.output


def test_retry_of_an_unknown_id_says_so(make_mail_runtime, db_url) -> None:
    result = cli(make_mail_runtime(database_url=db_url), "retry", "999")
    assert result.exit_code == 1 and "no inbound message 999" in result.output


def inbound_rows(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboundEmail)) or 0
