"""What staff do to a ticket: a workflow action, a note, a reply, an assignment.

Each takes the session of the request that owns the transaction and never commits. Each first
checks that the page the person acted on is still current (`row_version`): a second agent who
acts on a page opened before the first one acted is told what changed, and nothing applies
twice. Every action bumps the ticket's row_version and is on its timeline with the person's
name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.errors import Conflict, NotFound, ValidationError
from ticketbridge.staff.directory import name_of
from ticketbridge.staff.models import StaffUser, TicketPresence
from ticketbridge.tickets.models import Ticket, TicketEvent
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.definitions import Transition

if TYPE_CHECKING:
    from ticketbridge.runtime import Runtime

MAX_TEXT = 20_000
REPLY_TEMPLATE = "staff_reply"
TEXT_KINDS = {"note": ("note", "Internal note"), "staff_reply": ("reply", "Reply to the customer")}
"""Timeline kinds of staff text: the form field it comes from, and how the timeline names it."""


@dataclass(frozen=True)
class Staff:
    """The person acting: their account id (from the sign-in session or the API token), name,
    role, and the actor their timeline events carry: the account id, which outlives a rename."""

    id: int
    name: str
    email: str
    role: str

    @property
    def actor(self) -> Actor:
        return Actor.staff_account(self.id)

    @classmethod
    def of(cls, user: StaffUser) -> Staff:
        return cls(user.id, user.name, user.email, user.role.value)


class StalePage(Conflict):
    """The ticket changed after the page was opened: the action was not applied."""


def locked_ticket(session: Session, ticket_id: int, seen_version: int | None) -> Ticket:
    """The ticket, locked for this transaction, if the page acted on showed its current version."""
    ticket = session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if ticket is None:
        raise NotFound(f"no ticket {Ticket.reference_for(ticket_id)}")
    if seen_version is not None and ticket.row_version != seen_version:
        raise StalePage(
            f"{ticket.reference} changed after you opened it: {_latest(session, ticket)}. "
            "Nothing was applied; reload the ticket and decide again."
        )
    return ticket


def _latest(session: Session, ticket: Ticket) -> str:
    """The last thing staff did on the ticket (else its last event), as "who — what"."""
    events = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    event = (
        session.scalars(
            events.where(TicketEvent.actor.like("staff:%")).order_by(TicketEvent.id.desc()).limit(1)
        ).one_or_none()
        or session.scalars(events.order_by(TicketEvent.id.desc()).limit(1)).first()
    )
    if event is None:
        return "it moved on"
    return f"{name_of(session, event.actor)} — {event.summary}"


def _touch(ticket: Ticket, now: dt.datetime) -> None:
    """Any staff action is a new version of the ticket, so pages opened before it are stale."""
    ticket.updated_at = now


def _text(name: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({name: [f"write the {name} first"]})
    if len(text) > MAX_TEXT:
        raise ValidationError({name: [f"at most {MAX_TEXT} characters"]})
    return text


def _record_text(
    session: Session, ticket: Ticket, staff: Staff, kind: str, text: str, now: dt.datetime
) -> str:
    """Check the text, put it on the timeline as `kind` by this person, and return it."""
    name, title = TEXT_KINDS[kind]
    text = _text(name, text)
    record(
        session,
        ticket,
        actor=staff.actor,
        kind=kind,
        summary=f"{title} by {staff.name}",
        payload={"text": text},
        now=now,
    )
    _touch(ticket, now)
    return text


def add_note(
    session: Session, ticket: Ticket, staff: Staff, text: str, *, now: dt.datetime
) -> None:
    """An internal note: staff see it on the timeline; the customer never does."""
    _record_text(session, ticket, staff, "note", text, now)


def reply(
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    staff: Staff,
    text: str,
    *,
    now: dt.datetime,
) -> None:
    """A public reply: an email to the customer through the outbox, threaded on the ticket."""
    text = _record_text(session, ticket, staff, "staff_reply", text, now)
    runtime.outbox.queue_email(
        session,
        ticket=ticket,
        template=REPLY_TEMPLATE,
        now=now,
        context={"reply_text": text, "staff_name": staff.name},
    )


def assign(
    session: Session,
    ticket: Ticket,
    staff: Staff,
    assignee_id: int | None,
    *,
    now: dt.datetime,
) -> None:
    """Give the ticket to an active staff member (the person themselves: a claim), or to nobody."""
    assignee = session.get(StaffUser, assignee_id) if assignee_id is not None else None
    if assignee_id is not None and (assignee is None or not assignee.active):
        raise ValidationError({"assignee": ["choose an active staff member"]})
    if ticket.assignee_id == assignee_id:
        return
    ticket.assignee_id = assignee_id
    if assignee is None:
        summary = f"Unassigned by {staff.name}"
    elif assignee.id == staff.id:
        summary = f"Claimed by {staff.name}"
    else:
        summary = f"Assigned to {assignee.name} by {staff.name}"
    record(
        session,
        ticket,
        actor=staff.actor,
        kind="assigned",
        summary=summary,
        payload={"assignee": assignee.email if assignee else None},
        now=now,
    )
    _touch(ticket, now)


def act(
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    staff: Staff,
    transition: str,
    fields: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> Transition:
    """Fire a manual transition of the ticket's workflow as this person."""
    return runtime.engine.fire_manual(
        session,
        ticket,
        transition,
        staff_role=staff.role,
        fields=fields,
        now=now,
        actor=staff.actor,
    )


def seen(session: Session, ticket_id: int, staff_id: int, *, now: dt.datetime) -> None:
    """Mark the ticket's page open for this person now (others see it for two minutes)."""
    row = session.get(TicketPresence, (ticket_id, staff_id))
    if row is None:
        session.add(TicketPresence(ticket_id=ticket_id, staff_id=staff_id, seen_at=now))
    else:
        row.seen_at = now
