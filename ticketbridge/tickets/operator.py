"""A ticket as the CLI shows it to staff (`ticketbridge tickets show / act`): where it stands,
what may be done now, and who is acting; the action itself is the staff pages' own
(staff/actions.py `act`), so it is checked and recorded exactly as on a page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.errors import NotFound
from ticketbridge.staff.models import StaffUser
from ticketbridge.tickets.models import Ticket
from ticketbridge.workflow.context import guard_context
from ticketbridge.workflow.definitions import FieldType, FormField, Transition, TriggerKind
from ticketbridge.workflow.engine import Engine
from ticketbridge.workflow.models import WorkflowTimer


@dataclass(frozen=True)
class OpenAction:
    transition: Transition
    possible: bool
    """False when its guard does not hold for this ticket now (it is shown, but refused)."""


def ticket_by_reference(session: Session, reference: str, *, lock: bool = False) -> Ticket:
    ticket_id = Ticket.id_from_reference(reference)
    ticket = session.get(Ticket, ticket_id, with_for_update=lock) if ticket_id else None
    if ticket is None:
        raise NotFound(f"no ticket {reference!r}; a reference looks like LIC-000123")
    return ticket


def open_actions(
    engine: Engine, session: Session, ticket: Ticket, now: dt.datetime
) -> list[OpenAction]:
    """The staff actions of the ticket's current state, each with whether its guard holds."""
    if ticket.is_closed:
        return []
    workflow = engine.workflow_of(session, ticket)
    manual = workflow.transitions_from(ticket.state, TriggerKind.MANUAL)
    variables = guard_context(ticket, now) if any(t.guard for t in manual) else {}
    return [OpenAction(t, t.guard is None or t.guard.holds(variables)) for t in manual]


def pending_timers(session: Session, ticket: Ticket) -> list[WorkflowTimer]:
    return list(
        session.scalars(
            select(WorkflowTimer)
            .where(
                WorkflowTimer.ticket_id == ticket.id,
                WorkflowTimer.fired_at.is_(None),
                WorkflowTimer.cancelled_at.is_(None),
            )
            .order_by(WorkflowTimer.due_at)
        )
    )


def describe_field(field: FormField) -> str:
    """A field as staff fill it in: "reason: textarea, required, at most 2000 characters"."""
    parts = [field.type.value, "required" if field.required else "optional"]
    if field.choices:
        many = "one or more of" if field.type == FieldType.MULTICHOICE else "one of"
        parts.append(f"{many} {', '.join(field.choice_values())}")
    if field.minimum is not None:
        parts.append(f"at least {field.minimum}")
    if field.maximum is not None:
        unit = " characters" if field.type in (FieldType.TEXT, FieldType.TEXTAREA) else ""
        parts.append(f"at most {field.maximum}{unit}")
    return f"{field.name}: {', '.join(parts)}"


def staff_member(session: Session, email: str) -> StaffUser:
    staff = session.scalars(
        select(StaffUser).where(StaffUser.email == email.strip().lower(), StaffUser.active)
    ).one_or_none()
    if staff is None:
        raise NotFound(f"no active staff account {email!r}; give the email of a staff account")
    return staff
