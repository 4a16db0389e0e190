"""A message that cannot be processed is quarantined (kept, with the error, for staff) and never
blocks the messages behind it; odd 8-bit content is stored, not lost."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.mail.mailbuild import email, fetch_once, tickets
from ticketbridge.intake.email import ingest
from ticketbridge.intake.email.attachments import attachment_path
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus

EIGHT_BIT = (
    b"From: Customer <ops@acme.example>\r\nTo: license@tickets.test\r\nSubject: log file\r\n"
    b"Message-ID: <eight-bit@acme.example>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    b"Log attached \xe9\xff\xfe\x00 see there.\r\n"
    b'--b\r\nContent-Type: application/octet-stream; name="r\xe9sum\xe9.log"\r\n'
    b'Content-Disposition: attachment; filename="r\xe9sum\xe9.log"\r\n'
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    b"\x00\x01\x80\x81\xfe\xff binary \xc3\x28 junk\r\n"
    b"--b--\r\n"
)


def test_a_poison_message_is_quarantined_and_the_ones_behind_it_become_tickets(
    make_mail_runtime, imap_mailbox, db_url, monkeypatch
) -> None:
    real = ingest.extract_reply

    def failing(text: str, html: str | None = None, quote_start: str | None = None) -> str:
        if "POISON" in text:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        return real(text, html, quote_start)

    monkeypatch.setattr(ingest, "extract_reply", failing)
    runtime = make_mail_runtime(database_url=db_url, imap_batch_size=10)
    imap_mailbox.append(email(sender="a@acme.example", text="before"))
    poison = email(sender="p@acme.example", text="POISON")
    imap_mailbox.append(poison)
    imap_mailbox.append(EIGHT_BIT)
    imap_mailbox.append(email(sender="b@acme.example", text="after"))

    report = fetch_once(runtime)
    assert (report.counts[InboundStatus.STORED], report.counts[InboundStatus.QUARANTINED]) == (3, 1)
    found = tickets(runtime)
    assert [t.customer.email for t in found] == [
        "a@acme.example",
        "ops@acme.example",
        "b@acme.example",
    ]
    with runtime.db.transaction() as session:
        row = session.scalars(
            select(InboundEmail).where(InboundEmail.status == InboundStatus.QUARANTINED)
        ).one()
        assert (
            row.raw == poison
            and row.note.startswith("UnicodeDecodeError")
            and row.ticket_id is None
        )

    monkeypatch.setattr(ingest, "extract_reply", real)
    assert fetch_once(runtime).total == 0


def test_undecodable_8bit_text_and_attachment_are_stored(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    imap_mailbox.append(EIGHT_BIT)
    assert fetch_once(runtime).counts[InboundStatus.STORED] == 1
    [ticket] = tickets(runtime)
    message = ticket.messages[0]
    assert message.text_body.startswith("Log attached") and "\x00" not in message.text_body
    [attachment] = message.attachments
    assert attachment["name"].endswith(".log")
    assert (
        attachment_path(runtime.settings.instance_path, attachment["sha256"])
        .read_bytes()
        .endswith(b"\xfe\xff binary \xc3( junk")
    )


@pytest.mark.parametrize("setting", ["ignore"])
def test_unmatched_mail_can_be_kept_for_staff_only(
    make_mail_runtime, imap_mailbox, db_url, setting
) -> None:
    runtime = make_mail_runtime(database_url=db_url, unmatched_mail=setting)
    imap_mailbox.append(email(text="nobody's ticket"))
    assert fetch_once(runtime).counts[InboundStatus.IGNORED] == 1
    assert tickets(runtime) == []
