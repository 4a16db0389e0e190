"""R14 (c): a server got a new token; re-activation moves the license there, history and all.

The license row keeps its id, so its ledger, tickets, applications, usage and key stay
attached; only the token changes, and a TokenMove row records from what, when and by whom.
A record the intake created for the new token (a request filed with it) is merged in when it
holds nothing of its own; a new token that already carries a license of its own is refused.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.errors import Conflict, ValidationError
from ticketbridge.licenses.models import EntitlementChange, License, LicenseState, TokenMove
from ticketbridge.licenses.sync import find_license
from ticketbridge.tickets.models import Ticket


def move_to_new_token(
    session: Session,
    license: License,
    new_token: str,
    *,
    ticket_id: int | None,
    actor: Actor,
    now: dt.datetime,
) -> TokenMove:
    """Give `license` the token `new_token`, record the move (flushed, not committed)."""
    new_token = new_token.strip()
    if not new_token or new_token == license.token:
        raise ValidationError(
            {"new_token": ["give the new server token, different from the old one"]}
        )
    placeholder = find_license(session, new_token)
    if placeholder is not None:
        _merge_placeholder(session, placeholder, license)
    move = TokenMove(
        license_id=license.id,
        old_token=license.token,
        new_token=new_token,
        moved_at=now,
        ticket_id=ticket_id,
        actor=actor,
    )
    session.add(move)
    license.token = new_token
    session.flush()
    return move


def _merge_placeholder(session: Session, placeholder: License, license: License) -> None:
    """Re-point the tickets of an empty record of the new token to `license` and delete it."""
    has_history = (
        session.scalar(
            select(EntitlementChange.id)
            .where(EntitlementChange.license_id == placeholder.id)
            .limit(1)
        )
        is not None
    )
    if placeholder.state is not LicenseState.NOT_ACTIVE or placeholder.had_demo or has_history:
        raise Conflict(
            f"Server token {placeholder.token} already has a license of its own "
            f"({placeholder.state.value.replace('_', ' ')}); the license cannot move there.",
            field="new_token",
        )
    session.execute(
        update(Ticket)
        .where(Ticket.license_id == placeholder.id)
        .values(license_id=license.id)
        .execution_options(synchronize_session="fetch")
    )
    session.delete(placeholder)
    session.flush()
