"""Inbound mail for the outbox and threading tests, stored through the real ingest path."""

from __future__ import annotations

from ticketbridge.clock import utcnow
from ticketbridge.intake.email.ingest import FetchedMail
from ticketbridge.runtime import Runtime


def inbound(
    sender: str, message_id: str = "<q1@acme.example>", subject: str = "License question"
) -> bytes:
    """A customer's mail as it arrives, header bytes as written (no library re-encodes them)."""
    return (
        f"From: {sender}\r\nTo: license@tickets.test\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n\r\n"
        "Hello, a question.\r\n"
    ).encode()


def ingest(runtime: Runtime, *raws: bytes) -> None:
    """Store `raws` as one fetched batch; receipts go out after the commit (in-process jobs)."""
    with runtime.db.transaction() as session:
        runtime.ingestor("INBOX").ingest(
            session, [FetchedMail("INBOX", uid, raw) for uid, raw in enumerate(raws, 1)], utcnow()
        )
