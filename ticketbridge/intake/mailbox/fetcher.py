"""`ticketbridge mail fetch`: bring new messages from IMAP folders onto tickets, exactly once.

Per folder the database keeps UIDVALIDITY and the last UID stored. New UIDs are fetched in
batches with BODY.PEEK[] (which leaves \\Seen alone, so a failed run marks nothing read); each
batch is stored and the cursor advanced in one transaction. Only after that commit is the
batch flagged \\Seen or moved, as configured. The next batch is fetched, and parsed in a
helper process (intake.email.prepare), while the current one is stored; the helpers also
compose the batch's receipts. So:

- a crash before the commit stores nothing of the batch, and the restart fetches it again;
- a crash after the commit but before the flag or move leaves messages unflagged, but the
  cursor is already past them (and the dedupe key would catch them if it were not);
- a changed UIDVALIDITY (the folder was recreated) restarts the folder from UID 1, and the
  dedupe key skips what was already stored.

The loop waits with IDLE when the server offers it (one folder) and polls otherwise; a
dropped connection is reopened after a pause.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from sqlalchemy import select

from ticketbridge.clock import utcnow
from ticketbridge.config import Settings
from ticketbridge.db import Database
from ticketbridge.errors import Conflict, ServiceUnavailable
from ticketbridge.intake.email.ingest import FetchedMail, Ingestor
from ticketbridge.intake.email.prepare import MailHelper, Parsed
from ticketbridge.intake.mailbox.connection import connect, lost
from ticketbridge.intake.mailbox.lock import lock_for
from ticketbridge.intake.mailbox.models import InboundStatus, MailboxFolder
from ticketbridge.links import Links
from ticketbridge.outbox.service import Outbox
from ticketbridge.workflow.engine import Engine

log = logging.getLogger(__name__)
SEEN = b"\\Seen"
BODY = b"BODY[]"
SIZE = b"RFC822.SIZE"
BATCH_BYTES = 8 * 1024 * 1024
RECONNECT_DELAYS = (1, 5, 15, 60)


@dataclass
class FetchReport:
    """What one pass stored, per status."""

    counts: dict[InboundStatus, int] = field(
        default_factory=lambda: {status: 0 for status in InboundStatus}
    )

    def add(self, status: InboundStatus) -> None:
        self.counts[status] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{count} {status.value}" for status, count in self.counts.items())


def mailbox_name(settings: Settings) -> str:
    return f"{settings.imap_user}@{settings.imap_host}"


class Fetcher:
    """Owns the unit of work of each batch (stored mail and cursor commit together), as a job
    owns its own."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        engine: Engine,
        outbox: Outbox,
        links: Links,
        after_message: Callable[[FetchedMail], None] | None = None,
        connector: Callable[[Settings], IMAPClient] = connect,
    ) -> None:
        self.db = db
        self.settings = settings
        self.mailbox = mailbox_name(settings)
        self.helper = MailHelper()
        self.ingestor = Ingestor(
            self.mailbox,
            engine=engine,
            outbox=outbox,
            links=links,
            settings=settings,
            after_message=after_message,
            composer=self.helper.compose,
        )
        self._connect = connector

    def run(self, *, once: bool, stop: threading.Event | None = None) -> FetchReport:
        """Fetch until stopped (or one pass with `once`), holding the mailbox lock throughout."""
        stop = stop or threading.Event()
        lock = lock_for(self.db, self.mailbox)
        while not lock.acquire():
            if once:
                raise Conflict(
                    f"another fetcher is working on mailbox {self.mailbox}: it is held by "
                    f"{lock.held_by}; run again once it has finished"
                )
            log.info("mailbox %s is locked by another fetcher; waiting", self.mailbox)
            if stop.wait(self.settings.imap_poll_seconds):
                return FetchReport()
        try:
            return self._run_locked(once=once, stop=stop, renew=lock.renew)
        finally:
            self.helper.close()
            lock.release()

    def _run_locked(
        self, *, once: bool, stop: threading.Event, renew: Callable[[], None]
    ) -> FetchReport:
        report = FetchReport()
        failures = 0
        while not stop.is_set():
            try:
                client = self._connect(self.settings)
            except ServiceUnavailable as exc:
                if once:
                    raise
                failures = self._pause(stop, failures, exc)
                continue
            try:
                while not stop.is_set():
                    renew()
                    for folder in self.settings.imap_folders:
                        self.fetch_folder(client, folder, report)
                    failures = 0
                    if once:
                        return report
                    self._wait_for_mail(client, stop)
            except (IMAPClientError, OSError) as exc:
                if once:
                    raise lost(self.settings, exc) from exc
                failures = self._pause(stop, failures, exc)
            finally:
                _logout(client)
        return report

    def fetch_folder(self, client: IMAPClient, folder: str, report: FetchReport) -> None:
        selected = client.select_folder(folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        last_uid = self._cursor(folder, uidvalidity)
        uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
        batches = _batches(_sizes(client, uids), self.settings.imap_batch_size)
        mails: list[FetchedMail] = (
            _fetch(client, folder, uidvalidity, batches[0]) if batches else []
        )
        parsed: list[Parsed] | None = None
        for number, batch in enumerate(batches):
            following = (
                _fetch(client, folder, uidvalidity, batches[number + 1])
                if number + 1 < len(batches)
                else []
            )
            ahead = self.helper.submit([mail.raw for mail in following]) if following else None
            self._store(client, folder, batch, mails, parsed, report)
            mails, parsed = (
                following,
                (
                    self.helper.result(ahead, [mail.raw for mail in following])
                    if ahead is not None
                    else None
                ),
            )
        self._reconcile(client, last_uid)

    def _store(
        self,
        client: IMAPClient,
        folder: str,
        batch: list[int],
        mails: list[FetchedMail],
        parsed: list[Parsed] | None,
        report: FetchReport,
    ) -> None:
        """Store one batch with the cursor past it in one transaction, then flag or move it."""
        now = utcnow()
        with self.db.transaction() as session:
            outcomes = self.ingestor.ingest(session, mails, now, parsed)
            cursor = session.scalars(
                select(MailboxFolder).where(
                    MailboxFolder.mailbox == self.mailbox, MailboxFolder.folder == folder
                )
            ).one()
            cursor.last_uid, cursor.updated_at = batch[-1], now
        for outcome in outcomes:
            report.add(outcome.status)
        self._after_store(client, batch)

    def _cursor(self, folder: str, uidvalidity: int) -> int:
        """The last UID stored from `folder`; 0 for a new folder or a new UIDVALIDITY."""
        with self.db.transaction() as session:
            cursor = session.scalars(
                select(MailboxFolder).where(
                    MailboxFolder.mailbox == self.mailbox, MailboxFolder.folder == folder
                )
            ).one_or_none()
            if cursor is None:
                session.add(
                    MailboxFolder(
                        mailbox=self.mailbox,
                        folder=folder,
                        uidvalidity=uidvalidity,
                        last_uid=0,
                        updated_at=utcnow(),
                    )
                )
                return 0
            if cursor.uidvalidity != uidvalidity:
                log.warning(
                    "%s %s: UIDVALIDITY changed from %s to %s; fetching the folder again "
                    "(stored messages are skipped)",
                    self.mailbox,
                    folder,
                    cursor.uidvalidity,
                    uidvalidity,
                )
                cursor.uidvalidity, cursor.last_uid, cursor.updated_at = uidvalidity, 0, utcnow()
            return cursor.last_uid

    def _reconcile(self, client: IMAPClient, last_uid: int) -> None:
        """Finish what a crash interrupted: messages stored before this run (UID up to the cursor it
        started from) but never flagged or moved. Stored messages are never fetched again, so
        without this they would stay unread in the folder for good. It runs after the new mail is
        stored, so a move target that keeps failing never holds up new requests."""
        if last_uid == 0:
            return
        criteria = ["UID", f"1:{last_uid}"] + ([] if self.settings.imap_move_to else ["UNSEEN"])
        left = sorted(uid for uid in client.search(criteria) if uid <= last_uid)
        if left:
            log.info(
                "mailbox %s: flagging or moving %d message(s) stored before an interruption",
                self.mailbox,
                len(left),
            )
            self._after_store(client, left)

    def _after_store(self, client: IMAPClient, uids: Sequence[int]) -> None:
        target = self.settings.imap_move_to
        if not target:
            client.add_flags(uids, [SEEN], silent=True)
            return
        if not client.folder_exists(target):
            client.create_folder(target)
        if client.has_capability("MOVE"):
            client.move(uids, target)
        else:
            client.copy(uids, target)
            client.delete_messages(uids, silent=True)
            client.expunge(uids)

    def _wait_for_mail(self, client: IMAPClient, stop: threading.Event) -> None:
        """IDLE on the one folder when the server offers it; otherwise sleep one poll interval."""
        timeout = self.settings.imap_poll_seconds
        if len(self.settings.imap_folders) == 1 and client.has_capability("IDLE"):
            client.idle()
            try:
                deadline = time.monotonic() + timeout
                while not stop.is_set() and time.monotonic() < deadline:
                    if client.idle_check(timeout=min(1.0, timeout)):
                        break
            finally:
                client.idle_done()
        else:
            stop.wait(timeout)

    def _pause(self, stop: threading.Event, failures: int, error: Exception) -> int:
        delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
        log.warning(
            "mailbox %s: %s: %s; reconnecting in %ss",
            self.mailbox,
            type(error).__name__,
            error,
            delay,
        )
        stop.wait(delay)
        return failures + 1


def _fetch(
    client: IMAPClient, folder: str, uidvalidity: int, batch: list[int]
) -> list[FetchedMail]:
    fetched = client.fetch(batch, [b"BODY.PEEK[]"])
    return [
        FetchedMail(folder, uid, fetched[uid][BODY], uidvalidity)
        for uid in batch
        if uid in fetched and BODY in fetched[uid]
    ]


def _sizes(client: IMAPClient, uids: list[int]) -> dict[int, int]:
    """Each message's size, in one round trip, so that a batch can be bounded in bytes."""
    if not uids:
        return {}
    fetched = client.fetch(uids, [b"RFC822.SIZE"])
    return {uid: int(fetched.get(uid, {}).get(SIZE, 0)) for uid in uids}


def _batches(sizes: dict[int, int], count: int) -> list[list[int]]:
    """UIDs in order, `count` at most per batch and about BATCH_BYTES: a batch is held twice
    (the one stored, the next one parsed), so its bytes bound the fetcher's memory."""
    batches: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid, size in sizes.items():
        if current and (len(current) >= count or total + size > BATCH_BYTES):
            batches.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    return [*batches, current] if current else batches


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError):
        log.debug("logout failed; the connection is gone anyway")
