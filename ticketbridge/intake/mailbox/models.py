"""What the fetcher keeps in the database so that every inbound message is stored exactly once.

`MailboxFolder` is the IMAP cursor (UIDVALIDITY and the last UID stored), written in the same
transaction as the messages it covers: a crash either keeps both or neither. `InboundEmail`
keeps every fetched message's raw bytes (the full original, one click away from the ticket)
and its dedupe key, unique per mailbox, which catches what the cursor cannot (a UIDVALIDITY
reset, the same mail in two folders, a message moved back by hand).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketbridge.clock import utcnow
from ticketbridge.db import Base, str_enum
from ticketbridge.tickets.models import Message, Ticket


class MailboxFolder(Base):
    __tablename__ = "mailbox_folders"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320))
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    last_uid: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("mailbox", "folder"),)


class MailboxLease(Base):
    """The fetcher lock where the database has no advisory locks (SQLite): a row with an expiry.

    `host`, `pid` and `process_started` name the holding process, so that a restart on the same
    host can tell a crashed holder (process gone) from a live one without waiting for the expiry.
    """

    __tablename__ = "mailbox_leases"

    mailbox: Mapped[str] = mapped_column(String(320), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime]
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    process_started: Mapped[str] = mapped_column(String(80), default="")


class InboundStatus(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"


class InboundEmail(Base):
    __tablename__ = "inbound_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(320))
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str] = mapped_column(String(1000))
    header_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[InboundStatus] = mapped_column(str_enum(InboundStatus))
    kind: Mapped[str] = mapped_column(String(16), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket | None] = relationship()
    message: Mapped[Message | None] = relationship()

    __table_args__ = (UniqueConstraint("mailbox", "dedupe_key"),)
