"""Steps that change a customer's license: the automatic part of each request type."""

from __future__ import annotations

import datetime as dt

import marshmallow
from marshmallow import fields, validate

from ticketbridge.errors import RuleViolation
from ticketbridge.licenses.activation import issue_key
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import LicenseState
from ticketbridge.licenses.tokens import move_to_new_token
from ticketbridge.steps.changes import license_changed
from ticketbridge.steps.registry import StepContext, registry


class DemoParams(marshmallow.Schema):
    days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))


@registry.register("apply_demo_bundle", params=DemoParams)
def apply_demo_bundle(context: StepContext, *, days: int) -> None:
    """Apply the demo bundle (R3) and put the license in trial, expiring after `days` (R4)."""
    license = context.license
    if license.had_demo or license.state != LicenseState.NOT_ACTIVE:
        raise RuleViolation(
            "R2", f"server token {license.token} already had a demo or is active ({license.state})"
        )
    catalogue = context.resources.catalogue
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
    license_changed(context, license)
    context.note(
        f"Demo bundle applied to {license.token}; trial until {license.expires_at:%Y-%m-%d}",
        changes={c.item: c.new_quantity for c in changes},
        expires_at=license.expires_at.isoformat(),
    )


@registry.register("issue_license_key")
def issue_license_key_step(context: StepContext) -> None:
    """R15: issue the license key for the client and hash keys the customer sent on the form."""
    form = context.ticket.form_data or {}
    issued = issue_key(
        context.session,
        context.license,
        keyring=context.resources.keyring,
        secret_key=context.resources.secret_key,
        client_key=str(form.get("client_key", "")),
        hash_key=str(form.get("hash_key", "")),
        actor=context.actor,
        now=context.now,
    )
    license_changed(context, context.license)
    context.note(
        f"License key issued for {context.license.token} (signing key "
        f"{context.resources.keyring.active_kid})",
        license_key=issued.license_key,
    )


@registry.register("move_to_new_token")
def move_to_new_token_step(context: StepContext) -> None:
    """R14 (c): move the license to the new token given on the grace-period form, \
keeping its history."""
    new_token = str((context.ticket.form_data or {}).get("new_token", ""))
    move = move_to_new_token(
        context.session,
        context.license,
        new_token,
        ticket_id=context.ticket.id,
        actor=context.actor,
        now=context.now,
    )
    license_changed(context, context.license)
    context.note(
        f"License moved from {move.old_token} to {move.new_token}",
        old_token=move.old_token,
        new_token=move.new_token,
    )
