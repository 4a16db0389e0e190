"""The variables guards see: plain values only, so CEL never reaches into Python objects.

One function builds them for the engine and for the load-time type check, so both see the same
shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ticketbridge.tickets.models import Ticket


def guard_context(ticket: Ticket, now: dt.datetime) -> dict[str, Any]:
    """The variables a guard sees: plain values only, so CEL never reaches into Python objects."""
    license = ticket.license
    return {
        "form": ticket.form_data,
        "license": {
            "exists": license is not None,
            "state": license.state.value if license else "not_active",
            "had_demo": bool(license and license.had_demo),
            "plan": (license.plan if license else None) or "",
            "entitlements": dict(license.entitlements) if license else {},
        },
        "ticket": {
            "reference": ticket.reference,
            "request_type": ticket.request_type,
            "state": ticket.state,
            "created_at": ticket.created_at,
        },
        "now": now,
    }
