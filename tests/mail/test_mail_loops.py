"""No mail loops: auto-replies and bounces are recorded on the ticket, never answered, never
moving the workflow; a hard bounce of one of our emails marks that email failed."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from tests.mail.mailbuild import email, fetch_once, sent_emails, tickets
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus

AUTO_HEADERS = (
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"X-Autoreply": "yes"},
    {"X-Loop": "robot@acme.example"},
    {},
)


def auto_reply(number: int, receipt: EmailMessage | None) -> bytes:
    threading = {"In-Reply-To": str(receipt["Message-ID"])} if receipt is not None else {}
    return email(
        sender=f"Robot {number} <robot{number}@acme.example>",
        to=str(receipt["Reply-To"]) if receipt is not None else "license@tickets.test",
        subject="Automatic reply: out of office",
        text="I am out of the office until Monday.",
        headers={**AUTO_HEADERS[number % len(AUTO_HEADERS)], **threading},
    )


def bounce(original: EmailMessage, status: str = "5.1.1") -> bytes:
    """An RFC 3464 delivery status notification returning `original`."""
    boundary = "dsn-boundary"
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\r\n"
        f"To: license@tickets.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <bounce-{status}@mx.acme.example>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; "
        f'boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.acme.example\r\n\r\n"
        f"Final-Recipient: rfc822; ops@acme.example\r\nAction: failed\r\nStatus: {status}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original['Message-ID']}\r\nSubject: {original['Subject']}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def test_an_auto_reply_storm_produces_no_outbound_mail(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    imap_mailbox.append(email(text="Please extend our demo."))
    fetch_once(runtime)
    [receipt] = sent_emails(runtime)

    for number in range(40):
        imap_mailbox.append(auto_reply(number, receipt if number % 2 else None))
    report = fetch_once(runtime)

    assert report.total == 40
    assert len(sent_emails(runtime)) == 1
    [ticket] = tickets(runtime)
    assert ticket.state == "received"
    assert sum(1 for e in ticket.events if e.kind == "autoreply_received") == 20
    assert not [e for e in ticket.events if e.kind == "transition"]
    with runtime.db.transaction() as session:
        assert session.scalar(select(OutboxEmail.id).where(OutboxEmail.id > 1)) is None
        statuses = list(
            session.scalars(select(InboundEmail.status).where(InboundEmail.kind == "autoreply"))
        )
    assert (
        statuses.count(InboundStatus.IGNORED) == 20 and statuses.count(InboundStatus.STORED) == 20
    )


def test_a_hard_bounce_marks_our_email_failed_and_a_delay_only_goes_on_the_timeline(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    imap_mailbox.append(email(text="Hello"))
    fetch_once(runtime)
    [receipt] = sent_emails(runtime)

    imap_mailbox.append(bounce(receipt, "4.4.7"))
    fetch_once(runtime)
    with runtime.db.transaction() as session:
        assert session.scalars(select(OutboxEmail.status)).one() == OutboxStatus.SENT

    imap_mailbox.append(bounce(receipt, "5.1.1"))
    fetch_once(runtime)
    with runtime.db.transaction() as session:
        email_row = session.scalars(select(OutboxEmail)).one()
        assert (email_row.status, email_row.last_error) == (OutboxStatus.FAILED, "bounced (5.1.1)")
    [ticket] = tickets(runtime)
    kinds = [e.kind for e in ticket.events]
    assert (
        kinds.count("email_delayed") == 1
        and kinds.count("email_bounced") == 1
        and kinds.count("bounce_received") == 2
    )
    assert len(sent_emails(runtime)) == 1


def test_our_own_email_coming_back_is_ignored(make_mail_runtime, imap_mailbox, db_url) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    imap_mailbox.append(email(text="Hello"))
    fetch_once(runtime)
    [receipt] = sent_emails(runtime)
    imap_mailbox.append(receipt.as_bytes())
    assert fetch_once(runtime).counts[InboundStatus.IGNORED] == 1
    assert len(tickets(runtime)) == 1 and len(sent_emails(runtime)) == 1


def test_the_receipt_cap_per_sender_ends_a_loop_the_headers_miss(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    """A robot with no loop header that answers each receipt with a new mail opens requests, but
    gets no more than the cap of receipts in an hour; each request over it says why."""
    runtime = make_mail_runtime(database_url=db_url, receipt_cap_per_sender_per_hour=3)
    for number in range(5):
        imap_mailbox.append(
            email(sender="Bot <bot@acme.example>", subject=f"Ticket {number}", text="Received.")
        )
        fetch_once(runtime)

    found = tickets(runtime)
    assert len(found) == 5
    assert len(sent_emails(runtime)) == 3
    withheld = [e for t in found for e in t.events if e.kind == "receipt_withheld"]
    assert len(withheld) == 2
    assert all("3 receipts within the hour" in e.summary for e in withheld)
