"""A customer's server fetched its license: tell every ticket whose change it now has.

Called by the sync API (R16) in its transaction. Each settled ticket gets a timeline line —
which the customer's ticket page shows — and its workflow's `license_synced` trigger, so a
workflow can wait for "applied on your server" instead of assuming it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.actors import SYSTEM
from ticketbridge.licenses.models import License
from ticketbridge.licenses.revisions import record_fetch
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.engine import Engine


def server_fetched(
    session: Session, engine: Engine, license: License, now: dt.datetime
) -> list[int]:
    """Record the fetch; returns the ids of the tickets it settled (none on an unchanged poll)."""
    settled = record_fetch(session, license, now)
    if not settled:
        return []
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.id.in_([wait.ticket_id for wait in settled]))
        .order_by(Ticket.id)
        .with_for_update()
    )
    revisions = {wait.ticket_id: wait.revision for wait in settled}
    for ticket in tickets:
        record(
            session,
            ticket,
            actor=SYSTEM,
            kind="license_synced",
            summary=f"Applied on your server: {license.token} fetched this change on "
            f"{now:%Y-%m-%d %H:%M} UTC.",
            payload={"revision": revisions[ticket.id], "token": license.token},
            now=now,
        )
        engine.license_synced(session, ticket, revision=revisions[ticket.id], now=now)
    return list(revisions)
