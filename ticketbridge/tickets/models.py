"""Tickets, their append-only timeline, and the messages exchanged on them."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketbridge.actors import Actor, ActorText
from ticketbridge.clock import utcnow
from ticketbridge.customers.models import Customer
from ticketbridge.db import Base, str_enum
from ticketbridge.licenses.models import License
from ticketbridge.mailheaders import NAME_LENGTH
from ticketbridge.staff.models import StaffUser

REFERENCE_PREFIX = "LIC-"
MAX_ID = 2**31 - 1


class WaitingOn(enum.StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"
    SYSTEM = "system"
    NOBODY = "nobody"


_OPEN = text("outcome IS NULL")
_CLOSED = text("outcome IS NOT NULL")


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_type: Mapped[str] = mapped_column(String(32), index=True)
    workflow_name: Mapped[str] = mapped_column(String(64))
    workflow_version: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    waiting_on: Mapped[WaitingOn] = mapped_column(str_enum(WaitingOn))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    customer_name: Mapped[str] = mapped_column(String(NAME_LENGTH), default="", server_default="")
    """The name given on this ticket's own request: its emails greet that name, whatever a later
    request from the same address says."""
    license_id: Mapped[int | None] = mapped_column(ForeignKey("licenses.id"), index=True)
    form_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    submission_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_run_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The state's target time (tickets/due.py): when it is due, and while the ticket waits on
    # the customer, the time that was left (the clock stops) for the state it came from.
    due_at: Mapped[dt.datetime | None]
    due_state: Mapped[str | None] = mapped_column(String(64))
    due_paused_seconds: Mapped[int | None] = mapped_column(Integer)

    customer: Mapped[Customer] = relationship()
    license: Mapped[License | None] = relationship()
    assignee: Mapped[StaffUser | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (
        Index("ix_tickets_queue", "waiting_on", "state"),
        # The staff queue (tickets/queries.py): each view walks one of these in age order.
        *(
            Index(
                f"ix_tickets_open_{name}",
                *columns,
                "created_at",
                "id",
                postgresql_where=_OPEN,
                sqlite_where=_OPEN,
            )
            for name, columns in (
                ("age", ()),
                ("waiting", ("waiting_on",)),
                ("assignee", ("assignee_id",)),
                ("type", ("request_type",)),
                ("state", ("state",)),
            )
        ),
        Index("ix_tickets_open_due", "due_at", "id", postgresql_where=_OPEN, sqlite_where=_OPEN),
        # Every view's count in one index-only pass over the open tickets (queries.queue_counts).
        Index(
            "ix_tickets_open_counts",
            "request_type",
            "state",
            "waiting_on",
            "assignee_id",
            "due_at",
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
        Index(
            "ix_tickets_closed", "closed_at", "id", postgresql_where=_CLOSED, sqlite_where=_CLOSED
        ),
    )

    @property
    def reference(self) -> str:
        """The public reference (LIC-000123), derived from the id so it can never disagree with
        it."""
        return Ticket.reference_for(self.id)

    @staticmethod
    def reference_for(ticket_id: int) -> str:
        """The reference of a ticket known by id only (a queue row, a ledger line)."""
        return f"{REFERENCE_PREFIX}{ticket_id:06d}"

    @property
    def shows_license(self) -> bool:
        """License details (state, expiry) belong to the license's own customer: the one it was
        activated for. Anyone can type a token into a form; only that customer's tickets show
        them."""
        license = self.license
        return (
            license is not None
            and license.customer_id is not None
            and license.customer_id == self.customer_id
        )

    @property
    def is_closed(self) -> bool:
        return self.outcome is not None

    @staticmethod
    def id_from_reference(reference: str) -> int | None:
        """The id in `LIC-000123`, or None: not a reference, or beyond any id a ticket can have
        (a query for it would overflow PostgreSQL's integer instead of finding nothing)."""
        head, _, digits = reference.strip().upper().partition("-")
        if head + "-" != REFERENCE_PREFIX or not (digits.isascii() and digits.isdigit()):
            return None
        ticket_id = int(digits)
        return ticket_id if ticket_id <= MAX_ID else None


class TicketEvent(Base):
    """One line of a ticket's timeline; rows are only ever added."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[Actor] = mapped_column(ActorText())
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class Message(Base):
    """An email (or customer-page message) on a ticket, in either direction."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    to_addresses: Mapped[str] = mapped_column(Text, default="")
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
