"""Customers: the people and companies who file requests, identified by their email address."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketbridge.clock import utcnow
from ticketbridge.db import Base
from ticketbridge.mailheaders import NAME_LENGTH, header_text


def clean_name(name: str) -> str:
    """A name as we keep it: data, never header syntax (see mailheaders), fitting its column.

    Forms and inbound From display names both come through here (customers and each ticket
    keep one), so an encoded word or a CR LF in a name is neutralised before it is stored,
    shown or written into any email.
    """
    return header_text(name, limit=NAME_LENGTH)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    # The staff search finds customers by any part of their name or email (`ILIKE '%…%'`): on
    # PostgreSQL a trigram index answers that without reading every customer. SQLite has no
    # trigram index; there these are plain indexes, so both databases have the same schema.
    __table_args__ = tuple(
        Index(
            f"ix_customers_{column}_trigrams",
            column,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
        for column in ("name", "email")
    )
