"""Working a ticket: its page, workflow actions with their change preview, notes, replies,
assignment, and the originals and attachments behind its messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from ticketbridge.clock import utcnow
from ticketbridge.errors import TicketbridgeError, ValidationError
from ticketbridge.forms.submitted import answers_from
from ticketbridge.http.context import runtime
from ticketbridge.intake.email.attachments import attachment_path
from ticketbridge.intake.mailbox.models import InboundEmail
from ticketbridge.outbox.models import OutboxEmail
from ticketbridge.staff import actions
from ticketbridge.staff.models import StaffUser
from ticketbridge.staff.preview import preview_action
from ticketbridge.tickets.models import Message, Ticket
from ticketbridge.tickets.queries import others_present, ticket_page
from ticketbridge.web.staff import blueprint
from ticketbridge.web.staff.auth import me, staff_required
from ticketbridge.workflow.definitions import Transition, TriggerKind, Workflow


def _id(reference: str) -> int:
    ticket_id = Ticket.id_from_reference(reference)
    if ticket_id is None:
        abort(404)
    return ticket_id


def _manual(workflow: Workflow, ticket: Ticket) -> list[Transition]:
    """The staff actions open now, those the person's role allows."""
    if ticket.is_closed:
        return []
    return [
        t
        for t in workflow.transitions_from(ticket.state, TriggerKind.MANUAL)
        if me().is_admin or t.trigger.role == me().role
    ]


def _render_ticket(session: Session, ticket_id: int, **extra: Any) -> str:
    now = utcnow()
    actions.seen(session, ticket_id, me().id, now=now)
    page = ticket_page(session, ticket_id, viewer=me().id, now=now)
    if page is None:
        abort(404)
    workflow = runtime().workflows.get(
        page.ticket.workflow_name, page.ticket.workflow_version, session
    )
    staff = session.scalars(
        select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name)
    ).all()
    return render_template(
        "staff/ticket.html",
        page=page,
        ticket=page.ticket,
        workflow=workflow,
        manual=_manual(workflow, page.ticket),
        staff=staff,
        customer_link=runtime().links.ticket_url(ticket_id),
        **extra,
    )


@blueprint.get("/tickets/<reference>")
@staff_required
def ticket(reference: str) -> str:
    with runtime().db.transaction() as session:
        return _render_ticket(session, _id(reference))


@blueprint.get("/tickets/<reference>/presence")
@staff_required
def presence(reference: str) -> dict[str, Any]:
    """Polled by the page's script: who else has it open, and whether it changed meanwhile."""
    ticket_id, now = _id(reference), utcnow()
    with runtime().db.transaction() as session:
        actions.seen(session, ticket_id, me().id, now=now)
        version = session.scalar(select(Ticket.row_version).where(Ticket.id == ticket_id))
        return {
            "others": others_present(session, ticket_id, viewer=me().id, now=now),
            "row_version": version,
        }


def _seen_version() -> int:
    value = request.form.get("row_version", "")
    if not value.isdigit():
        raise ValidationError({"row_version": ["reload the ticket: the page was incomplete"]})
    return int(value)


def _apply(reference: str, change: Callable[[Session, Ticket], str]) -> Response | tuple[str, int]:
    """Run one staff action on a current page, or show the ticket again with why not."""
    ticket_id = _id(reference)
    try:
        with runtime().db.transaction() as session:
            ticket = actions.locked_ticket(session, ticket_id, _seen_version())
            done = change(session, ticket)
    except TicketbridgeError as exc:
        with runtime().db.transaction() as session:
            errors = exc.errors if isinstance(exc, ValidationError) else {}
            page = _render_ticket(
                session, ticket_id, error=exc.message, errors=errors, draft=request.form
            )
            return page, exc.http_status
    flash(done)
    return redirect(url_for("staff.ticket", reference=reference), code=303)


@blueprint.post("/tickets/<reference>/notes")
@staff_required
def add_note(reference: str) -> Response | tuple[str, int]:
    def change(session: Session, ticket: Ticket) -> str:
        actions.add_note(session, ticket, me(), request.form.get("note", ""), now=utcnow())
        return "Note added."

    return _apply(reference, change)


@blueprint.post("/tickets/<reference>/reply")
@staff_required
def reply(reference: str) -> Response | tuple[str, int]:
    def change(session: Session, ticket: Ticket) -> str:
        actions.reply(session, runtime(), ticket, me(), request.form.get("reply", ""), now=utcnow())
        return "Reply queued; it leaves through the outbox."

    return _apply(reference, change)


@blueprint.post("/tickets/<reference>/assign")
@staff_required
def assign(reference: str) -> Response | tuple[str, int]:
    value = request.form.get("assignee", "")
    if value == "me":
        assignee: int | None = me().id
    elif value.isdigit():
        assignee = int(value)
    else:
        assignee = None

    def change(session: Session, ticket: Ticket) -> str:
        actions.assign(session, ticket, me(), assignee, now=utcnow())
        return "Assignment saved."

    return _apply(reference, change)


def _fields(transition: Transition) -> dict[str, Any]:
    return answers_from(transition.trigger.fields, request.form, request.files)


@blueprint.route("/tickets/<reference>/actions/<name>", methods=["GET", "POST"])
@staff_required
def action(reference: str, name: str) -> str | Response | tuple[str, int]:
    """The action's fields, then its change preview, then confirm (each step a page)."""
    ticket_id = _id(reference)
    if request.method == "POST" and request.form.get("intent") == "confirm":

        def change(session: Session, ticket: Ticket) -> str:
            transition = actions.act(
                session,
                runtime(),
                ticket,
                me(),
                name,
                _fields(_transition(session, ticket, name)),
                now=utcnow(),
            )
            return f"Done: {transition.trigger.label or transition.name}."

        return _apply(reference, change)
    with runtime().db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            abort(404)
        transition = _transition(session, ticket, name)
        wants_preview = request.method == "POST" or not any(
            field.required for field in transition.trigger.fields
        )
        values = _fields(transition) if request.method == "POST" else {}
        preview, errors, status = None, {}, 200
        if wants_preview:
            try:
                preview = preview_action(
                    session, runtime(), ticket, me(), name, values, now=utcnow()
                )
            except ValidationError as exc:
                errors, status, wants_preview = exc.errors, 422, False
            except TicketbridgeError as exc:
                flash(exc.message)
                return redirect(url_for("staff.ticket", reference=reference), code=303)
        return render_template(
            "staff/action.html",
            ticket=ticket,
            transition=transition,
            values=values,
            errors=errors,
            preview=preview,
            confirming=wants_preview,
        ), status


def _transition(session: Session, ticket: Ticket, name: str) -> Transition:
    workflow = runtime().workflows.get(ticket.workflow_name, ticket.workflow_version, session)
    transition = workflow.transition(name)
    if transition is None or transition.trigger.kind != TriggerKind.MANUAL:
        abort(404)
    return transition


@blueprint.get("/tickets/<reference>/messages/<int:message_id>/original")
@staff_required
def original(reference: str, message_id: int) -> Response:
    """The message exactly as it came in or went out, as text (never rendered as HTML)."""
    ticket_id = _id(reference)
    with runtime().db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None or message.ticket_id != ticket_id:
            abort(404)
        raw = session.scalar(
            select(InboundEmail.raw).where(InboundEmail.message_row_id == message_id).limit(1)
        ) or session.scalar(select(OutboxEmail.raw).where(OutboxEmail.message_id == message_id))
    body = raw.decode("utf-8", errors="replace") if raw else message.text_body
    return Response(body, mimetype="text/plain", headers={"X-Content-Type-Options": "nosniff"})


@blueprint.get("/tickets/<reference>/attachments/<sha256>")
@staff_required
def attachment(reference: str, sha256: str) -> Response:
    """A file of this ticket, always as a download: a customer's file is never shown inline."""
    ticket_id = _id(reference)
    with runtime().db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            abort(404)
        files = [
            *[a for m in ticket.messages for a in m.attachments if isinstance(a, dict)],
            *[
                a
                for value in ticket.form_data.values()
                if isinstance(value, list)
                for a in value
                if isinstance(a, dict)
            ],
        ]
    found = next((a for a in files if a.get("sha256") == sha256), None)
    path = attachment_path(runtime().settings.instance_path, sha256) if found else None
    if found is None or path is None or not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=str(found.get("name") or "attachment"),
    )
