"""Steps that change a customer's license: the automatic part of each request type."""

from __future__ import annotations

import datetime as dt

import marshmallow
from marshmallow import fields, validate

from ticketbridge.errors import RuleViolation
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import LicenseState
from ticketbridge.steps.registry import StepContext, registry


class DemoParams(marshmallow.Schema):
    days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))


@registry.register("apply_demo_bundle", params=DemoParams)
def apply_demo_bundle(context: StepContext, *, days: int) -> None:
    """Apply the demo bundle (R3) and put the license in trial, expiring after `days` (R4)."""
    license = context.license
    if license.had_demo or license.state != LicenseState.NOT_ACTIVE:
        raise RuleViolation("R2", f"server token {license.token} already had a demo or is active ({license.state})")
    catalogue = context.services.catalogue
    changes = apply_changes(
        context.session,
        license,
        catalogue.demo_bundle(),
        effective_at=context.now,
        ticket_id=context.ticket.id,
        actor=context.actor,
        catalogue=catalogue,
        paid=False,
    )
    license.state = LicenseState.TRIAL
    license.had_demo = True
    license.customer_id = context.ticket.customer_id
    license.activated_at = context.now
    license.expires_at = context.now + dt.timedelta(days=days)
    context.note(
        f"Demo bundle applied to {license.token}; trial until {license.expires_at:%Y-%m-%d}",
        changes={c.item: c.new_quantity for c in changes},
        expires_at=license.expires_at.isoformat(),
    )
