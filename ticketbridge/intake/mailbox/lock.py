"""One fetcher per mailbox at a time, across machines.

Two fetchers on one mailbox would both fetch the same UIDs; the dedupe key would keep the
data right, but one would lose every batch to a unique violation and flag or move messages
under the other's feet. On PostgreSQL the lock is a session advisory lock held on a dedicated
connection: it goes away by itself when the process dies or its connection drops. SQLite has
no such lock, so a lease row with an expiry serves there; the fetcher renews it between
batches. The row names the holding process (host, pid, start time), so a fetcher restarted on
the same host after a crash takes over at once from a holder that is provably dead; a lease
held from another host still runs out before anyone else may take it.

A refused `acquire` leaves `held_by` saying who holds the lock and until when.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from typing import Protocol

from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection

from ticketbridge.clock import utcnow
from ticketbridge.db import Database
from ticketbridge.errors import Conflict
from ticketbridge.intake.mailbox.models import MailboxLease
from ticketbridge.lifeline import ProcessIdentity

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=5)


class MailboxLock(Protocol):
    held_by: str

    def acquire(self) -> bool: ...

    def renew(self) -> None: ...

    def release(self) -> None: ...


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
        self.held_by = ""

    def acquire(self) -> bool:
        connection = self._db.engine.connect()
        locked = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar_one()
        )
        if not locked:
            self.held_by = self._holder(connection)
            connection.close()
            return False
        connection.commit()
        self._connection = connection
        return True

    def _holder(self, connection: Connection) -> str:
        """The session holding the lock, as pg_stat_activity shows it; the lock lasts as long as
        that session does."""
        row = connection.execute(
            text(
                "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid = :high AND l.objid = :low AND l.objsubid = 1"
            ),
            {"high": (self._key >> 32) & 0xFFFFFFFF, "low": self._key & 0xFFFFFFFF},
        ).first()
        connection.rollback()
        if row is None:
            return "a fetcher that has just released it"
        pid, address, started = row
        return (
            f"the PostgreSQL session {pid} (client {address or 'local socket'}, connected "
            f"{started:%Y-%m-%d %H:%M:%S %Z}) until that fetcher stops or its connection drops"
        )

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
        self._holder = uuid.uuid4().hex
        self._process = ProcessIdentity.current()
        self.held_by = ""

    def acquire(self) -> bool:
        now = utcnow()
        with self._db.transaction() as session:
            lease = session.scalars(
                select(MailboxLease).where(MailboxLease.mailbox == self._mailbox)
            ).one_or_none()
            if lease is None:
                lease = MailboxLease(mailbox=self._mailbox)
                session.add(lease)
            elif lease.holder != self._holder and lease.expires_at > now:
                holder = ProcessIdentity(lease.host, lease.pid, lease.process_started)
                if not holder.provably_dead():
                    self.held_by = (
                        f"{holder.describe()} until {lease.expires_at:%Y-%m-%d %H:%M:%S} UTC "
                        "(it renews the lease while it runs)"
                    )
                    return False
                log.warning(
                    "mailbox %s: taking over the lease of %s, which is no longer running",
                    self._mailbox,
                    holder.describe(),
                )
            lease.holder, lease.expires_at = self._holder, now + LEASE
            lease.host, lease.pid = self._process.host, self._process.pid
            lease.process_started = self._process.started
            return True

    def renew(self) -> None:
        if not self.acquire():
            raise Conflict(
                f"the lease on mailbox {self._mailbox} was taken over by another fetcher: "
                f"{self.held_by}"
            )

    def release(self) -> None:
        with self._db.transaction() as session:
            session.execute(
                delete(MailboxLease).where(
                    MailboxLease.mailbox == self._mailbox, MailboxLease.holder == self._holder
                )
            )
