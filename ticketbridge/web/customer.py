"""The customer's ticket page, reached only through the signed link in every email (R19)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, redirect, render_template, request
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ticketbridge.clock import utcnow
from ticketbridge.errors import ValidationError
from ticketbridge.forms.common import all_fields
from ticketbridge.forms.display import answered
from ticketbridge.forms.submitted import answers_from, uploads_from
from ticketbridge.forms.visibility import shown_when
from ticketbridge.http.context import runtime
from ticketbridge.http.headers import no_store
from ticketbridge.http.ratelimit import ticket_reply
from ticketbridge.intake.email.attachments import store_attachments
from ticketbridge.tickets.conversation import StaleAnswers, add_customer_message
from ticketbridge.tickets.models import Ticket
from ticketbridge.tickets.queries import load_ticket
from ticketbridge.web.history import customer_history

blueprint = Blueprint("customer", __name__)


def _ticket_id(token: str) -> int:
    ticket_id = runtime().links.ticket_id_from_token(token)
    if ticket_id is None:
        abort(404)
    return ticket_id


def _page(
    session: Session,
    ticket_id: int,
    *,
    values: MultiDict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    **extra: object,
) -> str:
    ticket = load_ticket(session, ticket_id)
    if ticket is None:
        abort(404)
    workflow = runtime().workflows.get(ticket.workflow_name, ticket.workflow_version, session)
    state = workflow.states[ticket.state]
    asks = () if ticket.is_closed else state.asks
    return render_template(
        "ticket.html",
        ticket=ticket,
        workflow=workflow,
        answers=answered(all_fields(workflow.form), ticket.form_data),
        state=state,
        asks=asks,
        shown_when={f.name: shown_when(asks, f) for f in asks},
        values=values or MultiDict({"reply_id": uuid.uuid4().hex}),
        errors=errors or {},
        catalogue=runtime().catalogue,
        history=customer_history(ticket, workflow),
        **extra,
    )


@blueprint.get("/t/<token>")
@no_store
def ticket_page(token: str) -> str:
    ticket_id = _ticket_id(token)
    with runtime().db.transaction() as session:
        return _page(session, ticket_id, sent=request.args.get("sent") == "1")


@blueprint.post("/t/<token>/messages")
@ticket_reply
@no_store
def post_message(token: str) -> Response | tuple[str, int]:
    """A message from the ticket page joins the ticket and may move its workflow (R20)."""
    ticket_id = _ticket_id(token)
    text = request.form.get("message", "")
    files = tuple(uploads_from(request.files, "attachments"))
    instance = runtime().settings.instance_path
    try:
        with runtime().db.transaction() as session:
            ticket = session.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None:
                abort(404)
            asks = runtime().engine.workflow_of(session, ticket).states[ticket.state].asks
            add_customer_message(
                session,
                runtime().engine,
                ticket,
                text,
                reply_domain=runtime().settings.reply_domain,
                now=utcnow(),
                files=files,
                store=lambda uploads: store_attachments(instance, uploads),
                answers=answers_from(asks, request.form, request.files),
                asked_state=request.form.get("asked_state", ""),
                reply_id=request.form.get("reply_id", ""),
            )
    except ValidationError as exc:
        with runtime().db.transaction() as session:
            return _page(session, ticket_id, values=request.form.copy(), errors=exc.errors), 422
    except StaleAnswers as exc:
        with runtime().db.transaction() as session:
            return _page(session, ticket_id, moved_on=exc.message), 409
    return redirect(f"/t/{token}?sent=1#messages", code=303)
