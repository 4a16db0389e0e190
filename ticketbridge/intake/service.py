"""Turn a validated request into a customer, a license record and a ticket, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ticketbridge.clock import utcnow
from ticketbridge.customers.service import customer_for
from ticketbridge.forms.common import all_fields
from ticketbridge.forms.validate import validate_fields, with_stored_files
from ticketbridge.intake.checks import CHECKS
from ticketbridge.intake.email.attachments import store_attachments
from ticketbridge.licenses.models import License
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.service import open_ticket
from ticketbridge.workflow.definitions import Workflow

if TYPE_CHECKING:
    from ticketbridge.services import Services


def submit_request(
    services: Services,
    request_type: str,
    data: Mapping[str, Any],
    *,
    submission_id: str | None = None,
) -> int:
    """Create the ticket and return its id; the same submission id twice returns the first ticket.

    The answers are validated, then cross-checked against the license registry by the form's
    `checks` in the transaction that creates the ticket, so nothing is created on a refusal.
    Creation races (two identical submissions, two requests naming one new token) end in a
    unique-constraint violation for the loser, which then simply finds the winner's rows.
    """
    workflow = services.workflows.current(request_type)
    answers = validate_fields(all_fields(workflow.form), data)
    for attempt in range(2):
        try:
            return _create(services, workflow, answers, submission_id)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _create(
    services: Services, workflow: Workflow, answers: dict[str, Any], submission_id: str | None
) -> int:
    now = utcnow()
    request_type = workflow.name
    with services.db.transaction() as session:
        if submission_id:
            existing = session.scalars(
                select(Ticket.id).where(Ticket.submission_id == submission_id)
            ).one_or_none()
            if existing is not None:
                return existing
        CHECKS.run(workflow.form.checks, session, services.catalogue, answers)
        form = with_stored_files(
            all_fields(workflow.form),
            answers,
            lambda uploads: store_attachments(services.settings.instance_path, uploads),
        )
        customer = customer_for(session, email=form["customer_email"], name=form["customer_name"])
        ticket = open_ticket(
            session,
            services,
            request_type=request_type,
            customer=customer,
            license=_license_for(session, form.get("token")),
            form=form,
            now=now,
            submission_id=submission_id,
        )
        session.flush()
        ticket_id = ticket.id
    return ticket_id


def _license_for(session: Session, token: str | None) -> License | None:
    if not token:
        return None
    license = session.scalars(select(License).where(License.token == token)).one_or_none()
    if license is None:
        license = License(token=token)
        session.add(license)
    return license
