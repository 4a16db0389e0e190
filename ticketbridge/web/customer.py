"""The customer's ticket page, reached only through the signed link in every email (R19)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy.orm import selectinload

from ticketbridge.tickets.models import Ticket
from ticketbridge.web.context import services

blueprint = Blueprint("customer", __name__)


@blueprint.get("/t/<token>")
def ticket_page(token: str) -> str:
    ticket_id = services().links.ticket_id_from_token(token)
    if ticket_id is None:
        abort(404)
    with services().db.transaction() as session:
        ticket = session.get(Ticket, ticket_id, options=[selectinload(Ticket.events), selectinload(Ticket.messages), selectinload(Ticket.customer), selectinload(Ticket.license)])
        if ticket is None:
            abort(404)
        workflow = services().workflows.get(ticket.workflow_name, ticket.workflow_version, session)
        return render_template("ticket.html", ticket=ticket, workflow=workflow, state=workflow.states[ticket.state])
