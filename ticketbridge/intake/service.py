"""Turn a validated request into a customer, a license record and a ticket, in the caller's
transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ticketbridge.customers.service import customer_for
from ticketbridge.intake.forms import validate_form
from ticketbridge.licenses.models import License
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.service import open_ticket
from ticketbridge.workflow.engine import Engine


def submit_request(
    session: Session,
    engine: Engine,
    request_type: str,
    data: Mapping[str, Any],
    *,
    now: dt.datetime,
    submission_id: str | None = None,
) -> int:
    """Create the ticket (flushed, not committed) and return its id; the same submission id twice
    returns the first ticket.

    Creation races (two identical submissions, two requests naming one new token) end in a
    unique-constraint violation for the loser; its savepoint rolls back and the second attempt
    finds the winner's rows.
    """
    workflow = engine.workflows.current(request_type)
    form = validate_form(workflow.form, data)
    for attempt in range(2):
        try:
            with session.begin_nested():
                return _create(session, engine, request_type, form, submission_id, now)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _create(
    session: Session,
    engine: Engine,
    request_type: str,
    form: dict[str, Any],
    submission_id: str | None,
    now: dt.datetime,
) -> int:
    if submission_id:
        existing = session.scalars(
            select(Ticket.id).where(Ticket.submission_id == submission_id)
        ).one_or_none()
        if existing is not None:
            return existing
    customer = customer_for(session, email=form["customer_email"], name=form["customer_name"])
    ticket = open_ticket(
        session,
        engine,
        request_type=request_type,
        customer=customer,
        license=_license_for(session, form.get("token")),
        form=form,
        now=now,
        submission_id=submission_id,
    )
    session.flush()
    return ticket.id


def _license_for(session: Session, token: str | None) -> License | None:
    if not token:
        return None
    license = session.scalars(select(License).where(License.token == token)).one_or_none()
    if license is None:
        license = License(token=token)
        session.add(license)
    return license
