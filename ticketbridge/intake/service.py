"""Turn a validated request into a customer, a license record and a ticket, in the caller's
transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ticketbridge.customers.service import customer_for
from ticketbridge.forms.common import all_fields
from ticketbridge.forms.validate import validate_fields, with_stored_files
from ticketbridge.intake.checks import CHECKS
from ticketbridge.intake.email.attachments import store_attachments
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.models import License
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.service import open_ticket
from ticketbridge.workflow.definitions import Workflow
from ticketbridge.workflow.engine import Engine


class Intake:
    """Files requests from forms with what that takes: the engine that starts the ticket, the
    catalogue the form's checks read and the folder uploads are kept in."""

    def __init__(self, engine: Engine, catalogue: Catalogue, instance_path: Path) -> None:
        self.engine = engine
        self.catalogue = catalogue
        self.instance_path = instance_path

    def submit_request(
        self,
        session: Session,
        request_type: str,
        data: Mapping[str, Any],
        *,
        now: dt.datetime,
        submission_id: str | None = None,
    ) -> int:
        """Create the ticket (flushed, not committed) and return its id; the same submission id
        twice returns the first ticket.

        The answers are validated, then cross-checked against the license registry by the
        form's `checks` in the caller's transaction, so nothing is created on a refusal.
        Creation races (two identical submissions, two requests naming one new token) end in a
        unique-constraint violation for the loser; its savepoint rolls back and the second
        attempt finds the winner's rows.
        """
        self.engine.workflows.refresh(session)
        workflow = self.engine.workflows.current(request_type)
        answers = validate_fields(all_fields(workflow.form), data)
        for attempt in range(2):
            try:
                with session.begin_nested():
                    return self._create(session, workflow, answers, submission_id, now)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _create(
        self,
        session: Session,
        workflow: Workflow,
        answers: dict[str, Any],
        submission_id: str | None,
        now: dt.datetime,
    ) -> int:
        if submission_id:
            existing = session.scalars(
                select(Ticket.id).where(Ticket.submission_id == submission_id)
            ).one_or_none()
            if existing is not None:
                return existing
        CHECKS.run(workflow.form.checks, session, self.catalogue, answers)
        form = with_stored_files(
            all_fields(workflow.form),
            answers,
            lambda uploads: store_attachments(self.instance_path, uploads),
        )
        customer = customer_for(session, email=form["customer_email"], name=form["customer_name"])
        ticket = open_ticket(
            session,
            self.engine,
            request_type=workflow.name,
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
