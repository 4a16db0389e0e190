"""Staff accounts: support agents work the queue, admins also edit workflows and staff."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketbridge.clock import utcnow
from ticketbridge.db import Base, str_enum


class StaffRole(enum.StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # The staff JSON API's bearer token, as SHA-256: the token itself is shown once, never stored.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TicketPresence(Base):
    """Who has a ticket's page open: refreshed while the page is open, read by the others."""

    __tablename__ = "ticket_presence"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
