"""One fetcher per mailbox at a time, across machines.

Two fetchers on one mailbox would both fetch the same UIDs; the dedupe key would keep the
data right, but one would lose every batch to a unique violation and flag or move messages
under the other's feet. On PostgreSQL the lock is a session advisory lock held on a dedicated
connection: it goes away by itself when the process dies or its connection drops. SQLite has
no such lock, so a lease row with an expiry serves there; the fetcher renews it between
batches, and a crashed holder's lease simply runs out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import uuid
from typing import Protocol

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection

from ticketbridge.clock import utcnow
from ticketbridge.db import Database
from ticketbridge.errors import Conflict
from ticketbridge.intake.mailbox.models import MailboxLease

LEASE = dt.timedelta(minutes=5)


class MailboxLock(Protocol):
    def acquire(self) -> bool: ...

    def renew(self) -> None: ...

    def release(self) -> None: ...


def holder_name() -> str:
    """Host and process for the operator to read, and a random part so two fetchers never share
    one."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lock_for(db: Database, mailbox: str) -> MailboxLock:
    return AdvisoryLock(db, mailbox) if db.is_postgresql else LeaseLock(db, mailbox)


class AdvisoryLock:
    def __init__(self, db: Database, mailbox: str) -> None:
        self._db = db
        self._key = int.from_bytes(
            hashlib.sha256(f"ticketbridge.mailbox:{mailbox}".encode()).digest()[:8],
            "big",
            signed=True,
        )
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        connection = self._db.engine.connect()
        locked = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar_one()
        )
        connection.commit()
        if not locked:
            connection.close()
            return False
        self._connection = connection
        return True

    def renew(self) -> None:
        """Nothing to renew; a query checks the connection that holds the lock is still alive."""
        if self._connection is not None:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()

    def release(self) -> None:
        if self._connection is not None:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            self._connection.commit()
            self._connection.close()
            self._connection = None


class LeaseLock:
    def __init__(self, db: Database, mailbox: str) -> None:
        self._db = db
        self._mailbox = mailbox
        self._holder = holder_name()

    def acquire(self) -> bool:
        now = utcnow()
        with self._db.transaction() as session:
            lease = session.scalars(
                select(MailboxLease).where(MailboxLease.mailbox == self._mailbox)
            ).one_or_none()
            if lease is None:
                session.add(
                    MailboxLease(mailbox=self._mailbox, holder=self._holder, expires_at=now + LEASE)
                )
                return True
            if lease.holder != self._holder and lease.expires_at > now:
                return False
            lease.holder, lease.expires_at = self._holder, now + LEASE
            return True

    def renew(self) -> None:
        if not self.acquire():
            raise Conflict(
                f"the lease on mailbox {self._mailbox} was taken over by another fetcher"
            )

    def release(self) -> None:
        with self._db.transaction() as session:
            session.execute(
                delete(MailboxLease).where(
                    MailboxLease.mailbox == self._mailbox, MailboxLease.holder == self._holder
                )
            )
