"""Building licenses in a real database for the service and API tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import License, LicenseState
from ticketbridge.services import Services

PAID = {"agents": 5, "admins": 1, "webphone_sessions": 4, "cdr_survey": 1, "webrtc": 1}


def add_license(session: Session, services: Services, token: str, *, at: dt.datetime,
                entitlements: Mapping[str, int] = PAID, state: LicenseState = LicenseState.ACTIVE,
                frequency: str = "monthly") -> License:
    """A license whose entitlements were written through the ledger on `at` (paid from then if active)."""
    paid = state is LicenseState.ACTIVE
    license = License(token=token, state=state, plan="voice" if paid else None, billing_frequency=frequency,
                      activated_at=at, paid_since=at if paid else None)
    session.add(license)
    session.flush()
    apply_changes(session, license, entitlements, effective_at=at, ticket_id=None, actor="test",
                  catalogue=services.catalogue, paid=paid)
    return license
