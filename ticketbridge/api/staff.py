"""The staff JSON API: the queue, a ticket, and its staff actions, for scripts and other tools.

Every request carries `Authorization: Bearer tbs_…` (issued by `ticketbridge staff api-token`),
so no cookie is involved and CSRF cannot apply. It reads through the same read layer as the
staff pages (tickets/queries.py) and acts through the same staff actions, so an action taken
here is checked, recorded with the person's name and refused on a stale `row_version` exactly
as on the page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound as HttpNotFound

from ticketbridge.clock import utcnow
from ticketbridge.errors import TicketbridgeError, ValidationError
from ticketbridge.http.body import read_json_object
from ticketbridge.http.context import counts_cache, reads_no_workflows, runtime
from ticketbridge.http.csrf import exempt_token_authenticated
from ticketbridge.staff import actions
from ticketbridge.staff.accounts import staff_for_token
from ticketbridge.staff.actions import Staff
from ticketbridge.staff.directory import who
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.queries import (
    CLOSED_COUNT_CAP,
    Query,
    QueueCounts,
    QueuePage,
    View,
    queue_counts,
    queue_page,
    search,
    ticket_page,
)
from ticketbridge.workflow.definitions import TriggerKind

blueprint = Blueprint("staff_api", __name__, url_prefix="/api/v1/tickets")
MAX_ACTION_BODY = 64 * 1024


class TokenRefused(TicketbridgeError):
    http_status = 401

    def __init__(self) -> None:
        super().__init__(
            "send Authorization: Bearer <token>, a staff API token from "
            "`ticketbridge staff api-token EMAIL`"
        )


def _staff() -> Staff:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise TokenRefused()
    user = runtime().db.read(lambda session: staff_for_token(session, token.strip()))
    if user is None:
        raise TokenRefused()
    return Staff.of(user)


def _ticket_id(reference: str) -> int:
    ticket_id = Ticket.id_from_reference(reference)
    if ticket_id is None:
        raise HttpNotFound(f"{reference!r} is not a ticket reference (LIC-000123)")
    return ticket_id


@blueprint.get("")
@reads_no_workflows  # counts, pages and searches read tickets only
@exempt_token_authenticated
def list_tickets() -> dict[str, Any]:
    """The queue views of the staff page: ?view=staff|customer|mine|…, &type=, &state=,
    &after= (the previous page's next_after), or ?q= to search."""
    staff, now = _staff(), utcnow()
    for name, value in request.args.items(multi=True):
        if "\x00" in value:
            raise ValidationError({name: ["contains a NUL character, which no text can hold"]})
    try:
        view = View(request.args.get("view", View.STAFF.value))
    except ValueError:
        raise ValidationError({"view": [f"one of: {', '.join(v.value for v in View)}"]}) from None
    wanted = Query(
        view,
        request.args.get("type") or None,
        request.args.get("state") or None,
        request.args.get("after") or None,
    )
    text = request.args.get("q", "").strip()

    def read(session: Session) -> tuple[QueueCounts, QueuePage]:
        counts = queue_counts(session, me=staff.id, now=now, cache=counts_cache())
        if text:
            return counts, QueuePage(search(session, text), None)
        return counts, queue_page(session, wanted, me=staff.id, now=now)

    counts, page = runtime().db.read(read)
    return {
        "tickets": [row.as_json() for row in page.rows],
        "next_after": page.next_after,
        "counts": {view.value: counts.views[view] for view in View},
        "closed_count_cap": CLOSED_COUNT_CAP,
    }


def _ticket_json(ticket_id: int, staff: Staff) -> dict[str, Any]:
    with runtime().db.transaction() as session:
        page = ticket_page(session, ticket_id, viewer=staff.id, now=utcnow())
        if page is None:
            raise HttpNotFound(f"no ticket {Ticket.reference_for(ticket_id)}")
        ticket = page.ticket
        workflow = runtime().workflows.get(ticket.workflow_name, ticket.workflow_version, session)
        open_actions = (
            [] if ticket.is_closed else workflow.transitions_from(ticket.state, TriggerKind.MANUAL)
        )
        return {
            "reference": ticket.reference,
            "request_type": ticket.request_type,
            "workflow": {"name": workflow.name, "version": workflow.version},
            "state": ticket.state,
            "waiting_on": ticket.waiting_on.value,
            "outcome": ticket.outcome,
            "row_version": ticket.row_version,
            "customer": {"name": ticket.customer.name, "email": ticket.customer.email},
            "license_token": ticket.license.token if ticket.license else None,
            "assignee": ticket.assignee.email if ticket.assignee else None,
            "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
            "form": ticket.form_data,
            "timeline": [
                {
                    "at": event.at.isoformat(),
                    "actor": str(event.actor),
                    "actor_name": who(event.actor, page.staff_names),
                    "kind": event.kind,
                    "summary": event.summary,
                }
                for event in ticket.events
            ],
            "messages": [
                {
                    "direction": message.direction.value,
                    "subject": message.subject,
                    "text": message.text_body,
                    "created_at": message.created_at.isoformat(),
                }
                for message in ticket.messages
            ],
            "actions": [
                {
                    "name": transition.name,
                    "label": transition.trigger.label,
                    "role": transition.trigger.role,
                    "fields": [
                        {"name": f.name, "type": f.type.value, "required": f.required}
                        for f in transition.trigger.fields
                    ],
                }
                for transition in open_actions
            ],
        }


@blueprint.get("/<reference>")
@exempt_token_authenticated
def get_ticket(reference: str) -> dict[str, Any]:
    staff = _staff()
    return _ticket_json(_ticket_id(reference), staff)


@blueprint.post("/<reference>/actions/<transition>")
@exempt_token_authenticated
def take_action(reference: str, transition: str) -> dict[str, Any]:
    """Body: {"fields": {...}, "row_version": N}; row_version (from GET) makes a stale client
    get 409 instead of acting on a ticket that moved on."""
    staff = _staff()
    ticket_id = _ticket_id(reference)
    body = read_json_object(
        MAX_ACTION_BODY, example='{"fields": {"comment": "checked"}, "row_version": 3}'
    )
    fields, version = body.get("fields", {}), body.get("row_version")
    if not isinstance(fields, dict):
        raise ValidationError({"fields": ["an object of field name to value"]})
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ValidationError({"row_version": ["the whole number GET returned"]})
    with runtime().db.transaction() as session:
        ticket = actions.locked_ticket(session, ticket_id, version)
        actions.act(session, runtime(), ticket, staff, transition, fields, now=utcnow())
    return _ticket_json(ticket_id, staff)
