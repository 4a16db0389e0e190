"""Issue 5's "kill the fetcher mid-batch and restart: nothing lost or duplicated", with a real kill.

A real `python -m ticketbridge mail fetch` process works through a mix of new requests and
replies to open tickets in Dovecot and is SIGKILLed part way; a `--once` run then finishes
the job. Whatever phase the kill hits, every message must end up stored once, every new
request with one ticket and one receipt, every reply once on its ticket, and nothing may be
flagged or moved on the server before it is stored.

Two kills land inside a batch, before its commit: the test polls PostgreSQL until some
messages are stored and the fetcher's transaction holds uncommitted inbound rows (a row lock
on inbound_emails), then kills. The phase between a batch's commit and its flag or move is
hit deterministically by configuration alone: a move target Dovecot refuses to create ("~..."
is an invalid name) makes every move fail right after its batch committed, and the fetcher
waits to reconnect, which is when it is killed; the restart must then flag or move what was
stored but left behind.
"""

from __future__ import annotations

import signal
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.fixtures.backends import wait_until
from tests.fixtures.dovecot import DovecotServer
from tests.mail.mailbuild import email, fetch_once, reply_to, sent_emails, tickets
from tests.mail.processes import FetcherProcesses, process_tree, running
from ticketbridge.intake.email.ingest import RECEIPT_TEMPLATE
from ticketbridge.intake.mailbox.models import InboundEmail, InboundStatus
from ticketbridge.outbox.models import OutboxEmail
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Direction, Message

BATCH = 20
OPEN_TICKETS = 10
UNMOVABLE = "~Unmovable"
SEEN = b"\\Seen"
HEADER = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"


@dataclass(frozen=True)
class Sent:
    """One appended message; `customer` is the address whose ticket it must land on."""

    message_id: str
    customer: str
    is_reply: bool


@dataclass(frozen=True)
class Phase:
    """Where the kill lands: inside a batch once `stored` messages are in, or (stored None) at the
    first failed move."""

    count: int
    first_move_to: str
    move_to: str
    stored: int | None


@dataclass(frozen=True)
class KillRun:
    """What the kill left (stored, flagged or moved) and what the server shows after the restart."""

    sent: list[Sent]
    stored_at_kill: set[str]
    handled_at_kill: set[str]
    imap: dict[str, list[tuple[str, bool]]]
    move_to: str
    interrupted_batch: bool

    def left_behind(self) -> set[str]:
        """Appended messages the server still shows as unprocessed (not \\Seen, or not moved)."""
        return {s.message_id for s in self.sent} - handled(self.imap, self.move_to)


def message_id(raw: bytes) -> str:
    return str(BytesHeaderParser(policy=policy.default).parsebytes(raw)["Message-ID"]).strip()


def open_tickets(runtime: Runtime, server: DovecotServer) -> dict[str, EmailMessage]:
    """Tickets the replies will answer, opened in-process; their receipts by customer address."""
    server.append_many(
        [
            email(
                sender=f"Open {n} <open{n}@acme.example>",
                subject=f"Open ticket {n}",
                text=f"Open number {n}.",
            )
            for n in range(OPEN_TICKETS)
        ]
    )
    assert fetch_once(runtime).counts[InboundStatus.STORED] == OPEN_TICKETS
    return {parseaddr(str(receipt["To"]))[1]: receipt for receipt in sent_emails(runtime)}


def traffic(count: int, receipts: dict[str, EmailMessage]) -> tuple[list[Sent], list[bytes]]:
    """Every third message a reply (from the customer, through the receipt's Reply-To); the rest new
    requests."""
    customers = sorted(receipts)
    sent, raws = [], []
    for n in range(count):
        if n % 3 == 2:
            customer = customers[n % len(customers)]
            raw = reply_to(receipts[customer], sender=customer, text=f"Reply number {n}.")
        else:
            customer = f"c{n}@acme.example"
            raw = email(
                sender=f"Customer {n} <{customer}>",
                subject=f"Request {n}",
                text=f"Request number {n}.",
            )
        sent.append(Sent(message_id(raw), customer, n % 3 == 2))
        raws.append(raw)
    return sent, raws


def stored_ids(runtime: Runtime) -> set[str]:
    with runtime.db.transaction() as session:
        return {mid for mid in session.scalars(select(InboundEmail.header_message_id)) if mid}


def stored_count(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboundEmail)) or 0


def advisory_locks(runtime: Runtime) -> int:
    """Advisory locks held in this database: the killed fetcher's goes when PostgreSQL notices the
    dead connection."""
    with runtime.db.transaction() as session:
        return (
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
            or 0
        )


def batch_open(runtime: Runtime) -> bool:
    """Another session holds uncommitted inbound rows: the fetcher is inside a batch, before its
    commit."""
    with runtime.db.transaction() as session:
        return bool(
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'inbound_emails' "
                    "AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid() "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = "
                    "current_database())"
                )
            )
        )


def imap_view(server: DovecotServer) -> dict[str, list[tuple[str, bool]]]:
    """Message-ID -> (folder, \\Seen) of each copy on the server, across all folders."""
    view: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    client = server.client()
    try:
        for _flags, _delimiter, name in client.list_folders():
            folder = name.decode() if isinstance(name, bytes) else name
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            for data in (
                client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).values()
                if uids
                else ()
            ):
                view[message_id(data[HEADER])].append((folder, SEEN in data[b"FLAGS"]))
    finally:
        client.logout()
    return view


def handled(view: dict[str, list[tuple[str, bool]]], move_to: str) -> set[str]:
    """What the server shows as done: moved to `move_to`, or (no move configured) \\Seen."""
    return {
        mid
        for mid, copies in view.items()
        if any((folder == move_to) if move_to else seen for folder, seen in copies)
    }


def kill_and_restart(
    runtime: Runtime, server: DovecotServer, fetchers: FetcherProcesses, phase: Phase
) -> KillRun:
    receipts = open_tickets(runtime, server)
    sent, raws = traffic(phase.count, receipts)
    server.append_many(raws)
    settings = runtime.settings
    process, log = fetchers.start(settings.replace(imap_move_to=phase.first_move_to))
    kill_point = (
        _inside_a_batch(runtime, OPEN_TICKETS + phase.stored)
        if phase.stored is not None
        else _move_failed(runtime, log)
    )
    seen = wait_until(
        lambda: kill_point() or process.poll() is not None,
        timeout=180,
        what="the moment to kill the fetcher",
    )
    assert process.poll() is None, log.read_text(errors="replace")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    stored_at_kill = stored_ids(runtime)
    interrupted_batch = phase.stored is not None and stored_count(runtime) == seen
    handled_at_kill = handled(imap_view(server), phase.first_move_to)
    wait_until(
        lambda: advisory_locks(runtime) == 0,
        timeout=60,
        what="PostgreSQL to drop the killed fetcher's lock",
    )
    fetchers.run_once(settings.replace(imap_move_to=phase.move_to))
    return KillRun(
        sent, stored_at_kill, handled_at_kill, imap_view(server), phase.move_to, interrupted_batch
    )


def _inside_a_batch(runtime: Runtime, at_least: int) -> Callable[[], int]:
    """0 until `at_least` rows are stored and a batch is open; then the rows stored at that moment.

    The count is taken before the lock check, so if the open batch commits before the kill
    lands, the count after the kill differs and the test knows the kill missed the batch.
    """

    def point() -> int:
        stored = stored_count(runtime)
        return stored if stored >= at_least and batch_open(runtime) else 0

    return point


def _move_failed(runtime: Runtime, log: Path) -> Callable[[], int]:
    """The rows stored once the fetcher reports the failed move; 0 before."""
    return lambda: (
        stored_count(runtime) if "reconnecting in" in log.read_text(errors="replace") else 0
    )


def assert_exactly_once(runtime: Runtime, run: KillRun) -> None:
    """Every appended message stored once, on its customer's ticket, each new request with one
    ticket and one receipt, and every message flagged or moved once on the server."""
    sent_ids = {s.message_id for s in run.sent}
    with runtime.db.transaction() as session:
        rows = Counter(
            session.execute(select(InboundEmail.header_message_id, InboundEmail.status)).tuples()
        )
        receipts = Counter(
            session.scalars(
                select(Message.ticket_id)
                .join(OutboxEmail, OutboxEmail.message_id == Message.id)
                .where(OutboxEmail.template == RECEIPT_TEMPLATE)
            )
        )
    assert sum(rows.values()) == OPEN_TICKETS + len(run.sent)
    assert all(rows[(mid, InboundStatus.STORED)] == 1 for mid in sent_ids)

    found = tickets(runtime)
    requests = [s for s in run.sent if not s.is_reply]
    assert len(found) == OPEN_TICKETS + len(requests)
    landed = {
        m.message_id: t.customer.email
        for t in found
        for m in t.messages
        if m.direction == Direction.INBOUND
    }
    inbound = Counter(
        m.message_id for t in found for m in t.messages if m.direction == Direction.INBOUND
    )
    assert all(inbound[s.message_id] == 1 and landed[s.message_id] == s.customer for s in run.sent)
    assert all(
        len([m for m in t.messages if m.direction == Direction.INBOUND]) == 1
        for t in found
        if not t.customer.email.startswith("open")
    )
    assert all(receipts[t.id] == 1 for t in found)

    copies = {mid: len(run.imap[mid]) for mid in sent_ids}
    assert set(copies.values()) == {1}, "a message was lost or copied on the server"
    assert run.left_behind() == set(), (
        "a stored message was left unflagged or unmoved after the restart"
    )


PHASES = {
    "inside-a-batch-flagging": Phase(count=300, first_move_to="", move_to="", stored=BATCH),
    "inside-a-batch-half-way-moving": Phase(
        count=300, first_move_to="Processed", move_to="Processed", stored=150
    ),
    "after-commit-before-move": Phase(
        count=100, first_move_to=UNMOVABLE, move_to="Processed", stored=None
    ),
}


@pytest.mark.parametrize("phase", PHASES.values(), ids=PHASES.keys())
def test_a_killed_fetcher_restarted_loses_nothing_and_stores_nothing_twice(
    make_mail_runtime, imap_mailbox, pg_url, fetchers, phase: Phase
) -> None:
    runtime = make_mail_runtime(database_url=pg_url, imap_batch_size=BATCH)
    run = kill_and_restart(runtime, imap_mailbox, fetchers, phase)
    sent_ids = {s.message_id for s in run.sent}

    killed_at = len(run.stored_at_kill & sent_ids)
    assert 0 < killed_at < phase.count, f"the kill came at {killed_at} of {phase.count} stored"
    assert run.handled_at_kill <= run.stored_at_kill, "flagged or moved before it was stored"

    assert_exactly_once(runtime, run)


def test_a_restart_flags_or_moves_what_a_kill_left_behind(
    make_mail_runtime, imap_mailbox, pg_url, fetchers
) -> None:
    runtime = make_mail_runtime(database_url=pg_url, imap_batch_size=BATCH)
    run = kill_and_restart(
        runtime,
        imap_mailbox,
        fetchers,
        Phase(count=3 * BATCH, first_move_to=UNMOVABLE, move_to="Processed", stored=None),
    )
    assert run.left_behind() == set()


def test_a_sigkilled_fetcher_leaves_no_process_and_its_restart_on_sqlite_starts_at_once(
    make_mail_runtime, imap_mailbox, sqlite_url, fetchers
) -> None:
    """Issue 14: the helpers end with the fetcher, and the dead fetcher's lease blocks nobody."""
    runtime = make_mail_runtime(database_url=sqlite_url, imap_batch_size=BATCH)
    receipts = open_tickets(runtime, imap_mailbox)
    sent, raws = traffic(1200, receipts)  # enough batches that the kill lands mid-run
    imap_mailbox.append_many(raws)
    process, log = fetchers.start(runtime.settings)
    tree = wait_until(
        lambda: (
            (
                process.poll() is not None
                or (
                    stored_count(runtime) > OPEN_TICKETS + BATCH
                    and len(process_tree(process.pid)) > 1
                )
            )
            and process_tree(process.pid)
        ),
        timeout=180,
        what="the fetcher to store a batch with its helper running",
    )
    assert process.poll() is None and len(tree) > 1, log.read_text(errors="replace")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    stored_at_kill = stored_ids(runtime)
    wait_until(lambda: not running(tree), timeout=5, what=f"the fetcher's processes {tree} to end")

    fetchers.run_once(runtime.settings)
    run = KillRun(sent, stored_at_kill, set(), imap_view(imap_mailbox), "", False)
    assert 0 < len(stored_at_kill & {s.message_id for s in sent}) < len(sent)
    assert_exactly_once(runtime, run)
