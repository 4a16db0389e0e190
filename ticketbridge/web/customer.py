"""The customer's ticket page, reached only through the signed link in every email (R19)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from ticketbridge.clock import utcnow
from ticketbridge.errors import ValidationError
from ticketbridge.forms.common import all_fields
from ticketbridge.forms.display import answered
from ticketbridge.forms.fields import Upload
from ticketbridge.http.context import runtime
from ticketbridge.http.headers import no_store
from ticketbridge.intake.email.attachments import store_attachments
from ticketbridge.tickets.conversation import add_customer_message
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.queries import load_ticket

blueprint = Blueprint("customer", __name__)


def _ticket_id(token: str) -> int:
    ticket_id = runtime().links.ticket_id_from_token(token)
    if ticket_id is None:
        abort(404)
    return ticket_id


def _page(session: Session, ticket_id: int, **extra: object) -> str:
    ticket = load_ticket(session, ticket_id)
    if ticket is None:
        abort(404)
    workflow = runtime().workflows.get(ticket.workflow_name, ticket.workflow_version, session)
    return render_template(
        "ticket.html",
        ticket=ticket,
        workflow=workflow,
        answers=answered(all_fields(workflow.form), ticket.form_data),
        state=workflow.states[ticket.state],
        **extra,
    )


@blueprint.get("/t/<token>")
@no_store
def ticket_page(token: str) -> str:
    ticket_id = _ticket_id(token)
    with runtime().db.transaction() as session:
        return _page(session, ticket_id, sent=request.args.get("sent") == "1")


@blueprint.post("/t/<token>/messages")
@no_store
def post_message(token: str) -> Response | tuple[str, int]:
    """A message from the ticket page joins the ticket and may move its workflow (R20)."""
    ticket_id = _ticket_id(token)
    text = request.form.get("message", "")
    files = tuple(
        Upload(f.filename or "", f.mimetype or "application/octet-stream", f.read())
        for f in request.files.getlist("attachments")
        if f.filename
    )
    instance = runtime().settings.instance_path
    try:
        with runtime().db.transaction() as session:
            ticket = session.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None:
                abort(404)
            add_customer_message(
                session,
                runtime().engine,
                ticket,
                text,
                reply_domain=runtime().settings.reply_domain,
                now=utcnow(),
                files=files,
                store=lambda uploads: store_attachments(instance, uploads),
            )
    except ValidationError as exc:
        with runtime().db.transaction() as session:
            return _page(session, ticket_id, errors=exc.errors, draft=text), 422
    return redirect(f"/t/{token}?sent=1#messages", code=303)
