"""Admin pages: workflows and their versions, staff accounts, the outbox's failed emails, and
mail that opened no ticket (quarantined mail can be retried)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ticketbridge.clock import utcnow
from ticketbridge.errors import TicketbridgeError, ValidationError
from ticketbridge.http.context import runtime
from ticketbridge.intake.quarantine import retry_quarantined
from ticketbridge.intake.unticketed import mail_on_no_ticket
from ticketbridge.outbox.models import OutboxEmail, OutboxStatus
from ticketbridge.outbox.service import retry_failed
from ticketbridge.staff import accounts
from ticketbridge.staff.models import StaffRole, StaffUser
from ticketbridge.tickets.models import Ticket
from ticketbridge.web.staff import blueprint
from ticketbridge.web.staff.auth import admin_required, me
from ticketbridge.workflow.models import WorkflowVersion

MAIL_SHOWN = 200


@blueprint.get("/admin/")
@admin_required
def admin_home() -> str:
    with runtime().db.transaction() as session:
        versions = session.scalars(
            select(WorkflowVersion).order_by(WorkflowVersion.name, WorkflowVersion.loaded_at)
        ).all()
        running = dict(
            ((name, version), count)
            for name, version, count in session.execute(
                select(Ticket.workflow_name, Ticket.workflow_version, func.count())
                .where(Ticket.outcome.is_(None))
                .group_by(Ticket.workflow_name, Ticket.workflow_version)
            )
        )
        return render_template(
            "staff/admin_home.html",
            versions=versions,
            running=running,
            in_force={
                name: runtime().workflows.current(name).version
                for name in runtime().workflows.names()
            },
        )


@blueprint.get("/admin/staff")
@admin_required
def staff_users() -> str:
    with runtime().db.transaction() as session:
        return render_template("staff/admin_staff.html", users=accounts.all_staff(session))


@blueprint.post("/admin/staff")
@admin_required
def create_staff_user() -> Response | tuple[str, int]:
    try:
        role = StaffRole(request.form.get("role", ""))
    except ValueError:
        role = StaffRole.AGENT
    try:
        with runtime().db.transaction() as session:
            user = accounts.create_staff(
                session,
                email=request.form.get("email", ""),
                name=request.form.get("name", ""),
                role=role,
                password=request.form.get("password", ""),
            )
            flash(f"Created {user.role.value} {user.email}.")
    except TicketbridgeError as exc:
        with runtime().db.transaction() as session:
            errors = exc.errors if isinstance(exc, ValidationError) else {}
            return render_template(
                "staff/admin_staff.html",
                users=accounts.all_staff(session),
                error=exc.message,
                errors=errors,
                draft=request.form,
            ), exc.http_status
    return redirect(url_for("staff.staff_users"), code=303)


@blueprint.post("/admin/staff/<int:user_id>/disable")
@admin_required
def disable_staff_user(user_id: int) -> Response:
    with runtime().db.transaction() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            abort(404)
        if user.id == me().id:
            flash("You cannot disable your own account; ask another admin.")
        else:
            accounts.disable_staff(session, user.email)
            flash(f"Disabled {user.email}; their sessions and API token stopped working.")
    return redirect(url_for("staff.staff_users"), code=303)


@blueprint.get("/admin/outbox")
@admin_required
def outbox() -> str:
    with runtime().db.transaction() as session:
        failed = session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.status == OutboxStatus.FAILED)
            .order_by(OutboxEmail.id.desc())
            .limit(200)
            .options(selectinload(OutboxEmail.message))
        ).all()
        waiting = dict(
            session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status))
            .tuples()
            .all()
        )
        return render_template("staff/admin_outbox.html", failed=failed, waiting=waiting)


@blueprint.post("/admin/outbox/<int:outbox_id>/retry")
@admin_required
def retry_email(outbox_id: int) -> Response:
    with runtime().db.transaction() as session:
        email = retry_failed(session, runtime().jobs, outbox_id, actor=me().actor, now=utcnow())
        flash(f"Email to {email.recipient} queued again.")
    return redirect(url_for("staff.outbox"), code=303)


@blueprint.get("/admin/mail")
@admin_required
def mail() -> str:
    return render_template(
        "staff/admin_mail.html", mails=mail_on_no_ticket(runtime().db, limit=MAIL_SHOWN)
    )


@blueprint.post("/admin/mail/<int:inbound_id>/retry")
@admin_required
def retry_mail(inbound_id: int) -> Response:
    with runtime().db.transaction() as session:
        result = retry_quarantined(session, inbound_id, utcnow(), ingestor_for=runtime().ingestor)
    if result.still_quarantined:
        flash(f"Message {inbound_id} failed again: {result.note}")
    else:
        flash(f"Message {inbound_id} processed: {result.ticket or result.status.value}.")
    return redirect(url_for("staff.mail"), code=303)
