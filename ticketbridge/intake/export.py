"""Tickets as JSON lines, for backups, migrations and audits (`ticketbridge tickets export`).

One object per ticket with everything a person needs to understand it without our database:
reference, request type, state, customer, form data, and the messages with the text staff see.
Tickets are read in pages of ids so a large export holds one page in memory, not all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ticketbridge.db import Database
from ticketbridge.tickets.models import Message, Ticket

PAGE = 500


def export_tickets(db: Database, since: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """Tickets changed (or written to) at or after `since`, oldest first; all without it."""
    query = (
        select(Ticket)
        .options(selectinload(Ticket.customer), selectinload(Ticket.messages))
        .order_by(Ticket.id)
    )
    if since is not None:
        touched = select(Message.ticket_id).where(Message.created_at >= since)
        query = query.where(
            or_(Ticket.updated_at >= since, Ticket.created_at >= since, Ticket.id.in_(touched))
        )
    last_id = 0
    while True:
        with db.transaction() as session:
            page = list(session.scalars(query.where(Ticket.id > last_id).limit(PAGE)))
            rows = [ticket_record(ticket) for ticket in page]
        yield from rows
        if len(page) < PAGE:
            return
        last_id = page[-1].id


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    return {
        "reference": ticket.reference,
        "request_type": ticket.request_type,
        "state": ticket.state,
        "outcome": ticket.outcome,
        "waiting_on": ticket.waiting_on.value,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "customer": {"name": ticket.customer.name, "email": ticket.customer.email},
        "form_data": ticket.form_data,
        "messages": [
            {
                "direction": message.direction.value,
                "message_id": message.message_id,
                "created_at": message.created_at.isoformat(),
                "from": message.from_address,
                "subject": message.subject,
                "text": message.text_body,
                "attachments": [
                    attachment.get("name", "") if isinstance(attachment, dict) else str(attachment)
                    for attachment in message.attachments
                ],
            }
            for message in ticket.messages
        ],
    }
