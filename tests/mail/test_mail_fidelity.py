"""Issue 12: nothing a person wrote is lost or hidden, and no machine is answered.

A mix of human, automatic, malformed and Message-ID-reusing mail is delivered over IMAP; each
message must be visible to staff afterwards, on a ticket or in the list of mail on no ticket
(which `tickets export --with-mail-on-no-ticket` prints), and only people get receipts.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from click.testing import CliRunner

from tests.mail.mailbuild import email, fetch_once, sent_emails, tickets
from ticketbridge.cli import main
from ticketbridge.cli.context import State
from ticketbridge.intake.mailbox.models import InboundStatus
from ticketbridge.intake.unticketed import mail_on_no_ticket
from ticketbridge.runtime import Runtime


@dataclass(frozen=True)
class Delivery:
    """One message as delivered: `marker` is in its text; `person` whether a person wrote it."""

    marker: str
    raw: bytes
    person: bool
    ticket: bool


def received(by: str) -> dict[str, str]:
    """The Received line a delivering server adds: what tells two deliveries apart."""
    return {"Received": f"from mx.acme.example by {by}; Mon, 3 Mar 2025 10:00:00 +0000"}


def bare(marker: str, by: str) -> bytes:
    """A person's mail with no Message-ID and no Date, as some scripts and old clients send."""
    return (
        "\r\n".join(
            [
                *(f"{k}: {v}" for k, v in received(by).items()),
                "From: Old Client <old@acme.example>",
                "To: license@tickets.test",
                "Subject: Same words",
                "",
                f"Please renew our license. {marker}",
                "",
            ]
        )
    ).encode()


def deliveries() -> list[Delivery]:
    auto = "Automatic reply: out of office"
    mails = [
        Delivery("human-plain", email(text="A question. human-plain"), True, True),
        Delivery(
            "human-exchange",
            email(
                sender="Pat Exchange <pat@corp.example>",
                text="Written by Pat in Outlook. human-exchange",
                headers={"X-Auto-Response-Suppress": "All", "X-MS-Exchange-Organization-SCL": "1"},
            ),
            True,
            True,
        ),
        Delivery(
            "human-8bit-local",
            "From: Ëve <ëve@acme.example>\r\nTo: license@tickets.test\r\nSubject: Grüße\r\n"
            "Message-ID: <eve@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "\r\nA sender only SMTPUTF8 can answer. human-8bit-local\r\n".encode(),
            True,
            True,
        ),
        Delivery(
            "no-from",
            b"To: license@tickets.test\r\nSubject: who am I\r\nMessage-ID: <nofrom@x.example>\r\n"
            b"\r\nNo sender here. no-from\r\n",
            True,
            False,
        ),
        Delivery("bare-1", bare("bare-1", "mx1.tickets.test"), True, True),
        Delivery("bare-2", bare("bare-2", "mx2.tickets.test"), True, True),
        Delivery(
            "reused-1",
            email(sender="a@reuse.example", text="First. reused-1", message_id="<same@x.example>"),
            True,
            True,
        ),
        Delivery(
            "reused-2",
            email(sender="b@reuse.example", text="Second. reused-2", message_id="<same@x.example>"),
            True,
            True,
        ),
        Delivery(
            "malformed",
            b"From: Broken <broken@acme.example>\r\nTo: license@tickets.test\r\n"
            b'Subject: =?utf-8?q?broken=ZZ?=\r\nContent-Type: multipart/mixed; boundary="nope"\r\n'
            b"\r\n--other\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n"
            b"Caf\xe9 au lait. malformed\r\n--other--\r\n",
            True,
            True,
        ),
        Delivery(
            "oof",
            email(
                sender="Away <away@acme.example>",
                subject=auto,
                text="I am away. oof",
                headers={"Auto-Submitted": "auto-replied"},
            ),
            False,
            False,
        ),
        Delivery(
            "x-loop",
            email(
                sender="Robot <robot@acme.example>",
                subject="Thanks for your mail",
                text="We got it. x-loop",
                headers={"X-Loop": "robot@acme.example"},
            ),
            False,
            False,
        ),
        Delivery(
            "bounce",
            b"From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\r\n"
            b"To: license@tickets.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            b"Message-ID: <bounce@mx.acme.example>\r\n\r\n"
            b"The mail could not be delivered. bounce\r\n",
            False,
            False,
        ),
        Delivery(
            "list",
            email(
                sender="News <news@vendor.example>",
                subject="Our newsletter",
                text="Read all about it. list",
                headers={"List-Id": "<news.vendor.example>", "List-Unsubscribe": "<mailto:u@x>"},
            ),
            False,
            False,
        ),
    ]
    return mails


def export_lines(runtime: Runtime) -> list[dict]:
    state = State()
    state._settings, state._runtime = runtime.settings, runtime
    result = CliRunner().invoke(main, ["tickets", "export", "--with-mail-on-no-ticket"], obj=state)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_every_delivered_mail_is_visible_to_staff_and_only_people_get_receipts(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    mails = deliveries()
    imap_mailbox.append_many([d.raw for d in mails])

    report = fetch_once(runtime)

    assert report.total == len(mails)
    assert report.counts[InboundStatus.DUPLICATE] == report.counts[InboundStatus.QUARANTINED] == 0
    on_tickets = Counter(
        d.marker
        for t in tickets(runtime)
        for m in t.messages
        for d in mails
        if m.direction.value == "in" and d.marker in (m.text_body or "")
    )
    elsewhere = Counter(
        d.marker for row in mail_on_no_ticket(runtime.db) for d in mails if d.marker in row.text
    )
    assert on_tickets == Counter(d.marker for d in mails if d.ticket)
    assert elsewhere == Counter(d.marker for d in mails if not d.ticket)

    lines = export_lines(runtime)
    exported = json.dumps(lines)
    assert all(d.marker in exported for d in mails)
    no_ticket = [line for line in lines if line.get("record") == "mail_on_no_ticket"]
    assert len(no_ticket) == 5 and all(line["why"] for line in no_ticket)

    receipts = Counter(str(m["To"]).split("<")[-1].rstrip(">") for m in sent_emails(runtime))
    machines = {"away@acme.example", "robot@acme.example", "news@vendor.example"}
    assert not machines & set(receipts), receipts
    assert "pat@corp.example" not in receipts, "it asked for no automatic answer"
    assert receipts["ops@acme.example"] == 1 and receipts["old@acme.example"] == 2


def test_a_true_re_fetch_is_the_only_duplicate(make_mail_runtime, imap_mailbox, db_url) -> None:
    raw = bare("refetched", "mx1.tickets.test")
    imap_mailbox.append(raw)
    imap_mailbox.append(raw, folder="Copy")
    runtime = make_mail_runtime(database_url=db_url, imap_folder="INBOX, Copy")

    report = fetch_once(runtime)

    assert (report.counts[InboundStatus.STORED], report.counts[InboundStatus.DUPLICATE]) == (1, 1)
    assert len(tickets(runtime)) == 1
