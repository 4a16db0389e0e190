"""Staff accounts: support agents work the queue, admins also edit workflows and staff."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ticketbridge.actors import Actor, ActorText
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


class RunPhase(enum.StrEnum):
    REPLAY = "replay"
    PREVIEW = "preview"
    APPLY = "apply"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class AdminRun(Base):
    """An admin's long piece of work on many tickets — a replay of closed tickets against a
    draft, or a migration's preview and then its apply — done outside the request: the row is
    its progress, which the page polls, and its result once it ends."""

    __tablename__ = "admin_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_name: Mapped[str] = mapped_column(String(64))
    phase: Mapped[RunPhase] = mapped_column(str_enum(RunPhase))
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    # replay: {"source"}; migration: {"from_version", "to_version", "state_map"}.
    params: Mapped[dict[str, Any]]
    # replay: {"replayed", "differences"}; migration: {"moves"}.
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[Actor] = mapped_column(ActorText())
    confirmed_by: Mapped[Actor | None] = mapped_column(ActorText())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
