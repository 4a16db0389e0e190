"""Issue 12: no receipt to any machine sender, across the shared corpus's auto-replies, bounces
and complaints and the synthetic sets, delivered over IMAP; every one of them stays visible."""

from __future__ import annotations

import os

import pytest

from bench.email_reply_libraries import corpus_dir, manifest_rows
from tests.email.test_loop_signs import MACHINE_SENDERS, MACHINE_SIGNS
from tests.mail.mailbuild import email, fetch_once, sent_emails, tickets
from tests.mail.test_mail_loops import bounce
from ticketbridge.intake.mailbox.models import InboundStatus
from ticketbridge.intake.unticketed import mail_on_no_ticket

MACHINE_FACTS = ("autoreply=yes", "bounce=yes", "complaint=yes")


def corpus_machines() -> list[bytes]:
    """The corpus's machine-sent rows, as a mail server would deliver them (no mbox line)."""
    corpus = corpus_dir()
    if not (corpus / "MANIFEST.tsv").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"email corpus not found at {corpus}")
        pytest.skip(f"email corpus not found at {corpus}")
    raws = []
    for row in manifest_rows(corpus):
        if row["category"] in {"autoreply", "bounce"} and any(
            fact in row["expected"] for fact in MACHINE_FACTS
        ):
            raw = (corpus / row["path"]).read_bytes()
            if raw.startswith(b"From "):
                raw = raw.split(b"\n", 1)[1]
            raws.append(raw)
    return raws


def synthetic_machines() -> list[bytes]:
    """Out-of-office replies with each loop sign, from each kind of machine address, and
    bounces of our own kind."""
    signs = [
        email(
            sender=f"Robot <robot{n}@acme.example>",
            subject="Re: your request",
            text="This mailbox is not monitored.",
            headers=headers,
        )
        for n, headers in enumerate(MACHINE_SIGNS.values())
    ]
    senders = [
        email(sender=address, subject="Notification", text="Your report is ready.")
        for address in MACHINE_SENDERS
    ]
    original = {"Message-ID": "<original@tickets.test>", "Subject": "[LIC-000001] Received"}
    bounces = [bounce(original, status) for status in ("5.1.1", "5.2.2", "4.4.7")]
    return signs + senders + bounces


def test_no_machine_gets_a_receipt_and_each_is_visible(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    raws = corpus_machines() + synthetic_machines()
    imap_mailbox.append_many(raws)

    report = fetch_once(runtime)

    assert sent_emails(runtime) == []
    assert report.counts[InboundStatus.QUARANTINED] == 0
    kept = report.total - report.counts[InboundStatus.DUPLICATE]
    on_tickets = sum(len(t.messages) for t in tickets(runtime))
    assert on_tickets + len(mail_on_no_ticket(runtime.db)) == kept
