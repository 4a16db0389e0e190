"""Appending to a ticket's timeline; nothing ever edits or deletes an event.

A fetcher batch records three or four events per mail. As ORM objects they cost the unit of
work's bookkeeping and a large INSERT ... RETURNING each flush, yet nothing reads them back;
inside `collected` they are kept as plain rows and inserted in one executemany instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.tickets.models import Ticket, TicketEvent

_PENDING = "ticketbridge.timeline.pending"


def record(
    session: Session,
    ticket: Ticket,
    *,
    actor: Actor,
    kind: str,
    summary: str,
    now: dt.datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add one event: at the next flush, or when the enclosing `collected` block ends."""
    row = {"actor": actor, "kind": kind, "summary": summary, "payload": payload or {}, "at": now}
    pending: list[tuple[Ticket, dict[str, Any]]] | None = session.info.get(_PENDING)
    if pending is None:
        session.add(TicketEvent(ticket=ticket, **row))
    else:
        pending.append((ticket, row))


@contextmanager
def collected(session: Session) -> Iterator[None]:
    """Insert the events recorded inside the block together when it ends without error.

    The rows keep the order they were recorded in, so each ticket's timeline reads as before.
    The session is flushed first: a ticket opened in the block gets its id only then. An
    error discards them with the rest of the block's work (its savepoint rolls back).
    """
    if _PENDING in session.info:
        yield
        return
    pending: list[tuple[Ticket, dict[str, Any]]] = []
    session.info[_PENDING] = pending
    try:
        yield
        session.flush()
        if pending:
            session.execute(
                insert(TicketEvent), [{**row, "ticket_id": ticket.id} for ticket, row in pending]
            )
    finally:
        del session.info[_PENDING]
