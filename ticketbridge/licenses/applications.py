"""R18 allowed applications: enable, renew or suspend an app on a license, keeping its dates.

The on/off flag goes through the entitlement ledger like every other item (so the change has
its ledger row, ticket and actor); the LicenseApplication row adds the subscription and
expiration dates and the state the server shows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.errors import ValidationError
from ticketbridge.licenses.catalogue import Catalogue, ItemKind
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import AppState, License, LicenseApplication


def set_application(
    session: Session,
    license: License,
    app: str,
    *,
    state: AppState,
    expires_at: dt.datetime | None,
    ticket_id: int | None,
    actor: Actor,
    catalogue: Catalogue,
    now: dt.datetime,
) -> LicenseApplication:
    """Enable (ACTIVE) or suspend an application; its subscription date is kept from the first
    enable."""
    if not catalogue.is_known(app) or catalogue.item(app).kind is not ItemKind.APPLICATION:
        names = ", ".join(item.key for item in catalogue.items_of(ItemKind.APPLICATION))
        raise ValidationError({"app": [f"{app!r} is not an application; choose one of {names}"]})
    if expires_at is not None and expires_at <= now:
        raise ValidationError(
            {"expires_at": ["must be in the future; suspend the app to end it now"]}
        )
    apply_changes(
        session,
        license,
        {app: int(state is AppState.ACTIVE)},
        effective_at=now,
        ticket_id=ticket_id,
        actor=actor,
        catalogue=catalogue,
        paid=license.paid_since is not None,
    )
    row = next((row for row in license.applications if row.app == app), None)
    if row is None:
        row = LicenseApplication(license=license, app=app, subscribed_at=now)
        session.add(row)
    row.state, row.expires_at = state, expires_at
    session.flush()
    return row
