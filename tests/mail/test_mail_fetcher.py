"""The fetcher against Dovecot: exactly once across a crash mid-batch, UIDVALIDITY resets and
re-fetches; flag or move after storing; one fetcher per mailbox; IDLE wakes it for new mail."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from tests.fixtures.backends import wait_until
from tests.mail.mailbuild import email, fetch_once, tickets
from ticketbridge.errors import Conflict
from ticketbridge.intake.email.ingest import FetchedMail
from ticketbridge.intake.mailbox.fetcher import mailbox_name
from ticketbridge.intake.mailbox.lock import lock_for
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus, MailboxFolder
from ticketbridge.outbox.models import OutboxEmail
from ticketbridge.tickets.models import Message


class Crash(Exception):
    """Stands for the process dying mid-batch."""


def crash_after(count: int):
    seen: list[int] = []

    def hook(mail: FetchedMail) -> None:
        seen.append(mail.uid)
        if len(seen) == count:
            raise Crash(f"killed after uid {mail.uid}")

    return hook


def customer_mails(count: int) -> list[bytes]:
    return [
        email(
            sender=f"Customer {n} <c{n}@acme.example>",
            subject=f"Request {n}",
            text=f"Request number {n}.",
        )
        for n in range(count)
    ]


def seen_uids(imap_mailbox) -> set[int]:
    client = imap_mailbox.client()
    try:
        client.select_folder("INBOX", readonly=True)
        return set(client.search(["SEEN"]))
    finally:
        client.logout()


def counts(runtime) -> tuple[int, int, int]:
    with runtime.db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(InboundEmail)) or 0,
            session.scalar(select(func.count()).select_from(Message)) or 0,
            session.scalar(select(func.count()).select_from(OutboxEmail)) or 0,
        )


def test_a_crash_mid_batch_loses_nothing_and_stores_nothing_twice(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url, imap_batch_size=4)
    uids = [imap_mailbox.append(raw) for raw in customer_mails(10)]

    with pytest.raises(Crash):
        fetch_once(runtime, after_message=crash_after(6))
    assert len(tickets(runtime)) == 4
    assert seen_uids(imap_mailbox) == set(uids[:4])

    report = fetch_once(runtime)
    assert report.counts[InboundStatus.STORED] == 6
    found = tickets(runtime)
    assert sorted(t.form_data["subject"] for t in found) == sorted(
        f"Request {n}" for n in range(10)
    )
    assert counts(runtime) == (10, 20, 10)
    assert seen_uids(imap_mailbox) == set(uids)

    with runtime.db.transaction() as session:
        session.execute(update(MailboxFolder).values(uidvalidity=1, last_uid=0))
    again = fetch_once(runtime)
    assert (again.total, again.counts[InboundStatus.DUPLICATE]) == (10, 10)
    assert counts(runtime) == (10, 20, 10)


def test_the_same_mail_in_two_folders_or_twice_in_one_is_stored_once(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url, imap_folder="INBOX, Archive")
    raw = email(text="only once")
    imap_mailbox.append(raw)
    imap_mailbox.append(raw)
    imap_mailbox.append(raw, folder="Archive")
    without_id = email(text="no Message-ID here", message_id=None)
    imap_mailbox.append(without_id)
    imap_mailbox.append(
        without_id.replace(b"From:", b"Received: from relay.example by mx.example\r\nFrom:", 1)
    )
    imap_mailbox.append(without_id, folder="Archive")
    report = fetch_once(runtime)
    # The same bytes again are a re-fetch; a second delivery (its own Received line) is not.
    assert (report.counts[InboundStatus.STORED], report.counts[InboundStatus.DUPLICATE]) == (3, 3)
    assert len(tickets(runtime)) == 3


def test_a_reused_message_id_with_other_content_is_a_new_message(
    make_mail_runtime, imap_mailbox, db_url
) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    imap_mailbox.append(email(text="first", message_id="<same@acme.example>"))
    imap_mailbox.append(email(text="second, other content", message_id="<same@acme.example>"))
    assert fetch_once(runtime).counts[InboundStatus.STORED] == 2
    assert sorted(t.messages[0].text_body for t in tickets(runtime)) == [
        "first",
        "second, other content",
    ]


def test_stored_messages_are_moved_when_configured(make_mail_runtime, imap_mailbox, db_url) -> None:
    runtime = make_mail_runtime(database_url=db_url, imap_move_to="Processed")
    for raw in customer_mails(3):
        imap_mailbox.append(raw)
    assert fetch_once(runtime).total == 3
    client = imap_mailbox.client()
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.select_folder("Processed")[b"EXISTS"] == 3
    finally:
        client.logout()


def test_one_fetcher_per_mailbox(make_mail_runtime, db_url) -> None:
    runtime = make_mail_runtime(database_url=db_url)
    other = lock_for(runtime.db, mailbox_name(runtime.settings))
    assert other.acquire()
    try:
        with pytest.raises(Conflict, match="another fetcher .* held by .* until"):
            fetch_once(runtime)
    finally:
        other.release()
    assert fetch_once(runtime).total == 0


def test_the_running_fetcher_picks_up_new_mail_with_idle(
    make_mail_runtime, imap_mailbox, pg_url
) -> None:
    runtime = make_mail_runtime(database_url=pg_url, imap_poll_seconds=30)
    stop = threading.Event()
    runner = threading.Thread(target=runtime.fetcher().run, kwargs={"once": False, "stop": stop})
    runner.start()
    try:
        wait_until(lambda: _cursor_exists(runtime), what="the first pass")
        imap_mailbox.append(email(text="arrives while idling"))
        wait_until(lambda: len(tickets(runtime)) == 1, timeout=10, what="the IDLE wake-up")
    finally:
        stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()


def _cursor_exists(runtime) -> bool:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(MailboxFolder)) == 1
