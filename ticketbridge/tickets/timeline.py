"""Appending to a ticket's timeline; nothing ever edits or deletes an event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ticketbridge.tickets.models import Ticket, TicketEvent


def record(
    session: Session, ticket: Ticket, *, actor: str, kind: str, summary: str, now: dt.datetime, payload: dict[str, Any] | None = None
) -> TicketEvent:
    event = TicketEvent(ticket=ticket, actor=actor, kind=kind, summary=summary, payload=payload or {}, at=now)
    session.add(event)
    return event
