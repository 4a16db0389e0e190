"""Workflow state kept in the database: every version ever loaded (so a ticket can finish on the
version it began on), which version is in force, and the timers armed on tickets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ticketbridge.actors import Actor, ActorText
from ticketbridge.clock import utcnow
from ticketbridge.db import Base


class WorkflowVersion(Base):
    __tablename__ = "workflow_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(String(500))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("name", "version"),)


class WorkflowPublication(Base):
    """Putting a version in force: the newest row of a workflow's name is its version in force.

    Rows are only ever added, so publishing again (a rollback too) is a new row, and every
    process can tell a new publication from the highest id and the row count alone.
    `from_folder` marks the versions published from the workflows folder at start, so a restart
    does not undo one published from the staff editor since.
    """

    __tablename__ = "workflow_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id"))
    from_folder: Mapped[bool] = mapped_column(default=False)
    published_by: Mapped[Actor] = mapped_column(ActorText())
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkflowTimer(Base):
    """A timer transition armed when its ticket entered the timer's state.

    The database, not Redis, is the record: the sweeper fires due rows, claiming each with an
    atomic UPDATE on `fired_at`, so a Redis flush or a restart neither loses nor doubles one.
    Leaving the state sets `cancelled_at` on the rows still pending.
    """

    __tablename__ = "workflow_timers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    transition: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[dt.datetime] = mapped_column(index=True)
    fired_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("ticket_id", "transition", "due_at"),)

    @property
    def pending(self) -> bool:
        return self.fired_at is None and self.cancelled_at is None
