"""Building licenses and their tickets in a real database for the service and API tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.customers.models import Customer
from ticketbridge.licenses.activation import IssuedKey, issue_key
from ticketbridge.licenses.applications import set_application
from ticketbridge.licenses.ledger import apply_changes
from ticketbridge.licenses.models import AppState, License, LicenseApplication, LicenseState
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket, WaitingOn

PAID = {"agents": 5, "admins": 1, "webphone_sessions": 4, "cdr_survey": 1, "webrtc": 1}


def add_license(
    session: Session,
    runtime: Runtime,
    token: str,
    *,
    at: dt.datetime,
    entitlements: Mapping[str, int] = PAID,
    state: LicenseState = LicenseState.ACTIVE,
    frequency: str = "monthly",
) -> License:
    """A license whose entitlements were written through the ledger on `at` (paid from then if
    active)."""
    paid = state is LicenseState.ACTIVE
    license = License(
        token=token,
        state=state,
        plan="voice" if paid else None,
        billing_frequency=frequency,
        activated_at=at,
        paid_since=at if paid else None,
    )
    session.add(license)
    session.flush()
    apply_changes(
        session,
        license,
        entitlements,
        effective_at=at,
        ticket_id=None,
        actor=Actor.staff("test"),
        catalogue=runtime.catalogue,
        paid=paid,
    )
    return license


def add_app(
    session: Session,
    runtime: Runtime,
    license: License,
    app: str,
    *,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    state: AppState = AppState.ACTIVE,
) -> LicenseApplication:
    """Subscribe `license` to `app` as staff would, with no ticket (flushed)."""
    return set_application(
        session,
        license,
        app,
        state=state,
        expires_at=expires_at,
        ticket_id=None,
        actor=Actor.staff("staff"),
        catalogue=runtime.catalogue,
        now=now,
    )


def add_ticket(
    session: Session,
    license: License,
    *,
    request_type: str = "grace",
    form: Mapping[str, str] | None = None,
) -> Ticket:
    """A new ticket of `request_type` on `license`, filed by one shared customer (flushed)."""
    customer = session.scalars(select(Customer)).first() or Customer(
        email="ops@acme.example", name="Acme"
    )
    ticket = Ticket(
        request_type=request_type,
        workflow_name=request_type,
        workflow_version="1",
        state="new",
        waiting_on=WaitingOn.STAFF,
        customer=customer,
        license=license,
        form_data=dict(form or {}),
    )
    session.add(ticket)
    session.flush()
    return ticket


def issue(
    session: Session,
    runtime: Runtime,
    license: License,
    *,
    client_key: str = "CK",
    hash_key: str = "HK",
    now: dt.datetime,
) -> IssuedKey:
    """Issue a license key with the runtime's keyring and secret, as the R15 step does."""
    return issue_key(
        session,
        license,
        keyring=runtime.keyring,
        secret_key=runtime.settings.secret_key,
        client_key=client_key,
        hash_key=hash_key,
        actor=Actor.staff("ana"),
        now=now,
    )
