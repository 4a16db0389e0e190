"""Admin: one workflow's versions and picture, the YAML editor that checks on save, the replay
of closed tickets against the draft, publishing it, and moving open tickets onto it."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ticketbridge.clock import utcnow
from ticketbridge.errors import NotFound, TicketbridgeError
from ticketbridge.http.context import runtime
from ticketbridge.staff.workflow_editor import (
    check_draft,
    migrate_open_tickets,
    open_versions,
    publish,
    source_in_force,
)
from ticketbridge.tickets.models import Ticket
from ticketbridge.web.staff import REPLAY, blueprint
from ticketbridge.web.staff.auth import admin_required, me
from ticketbridge.workflow.problems import WorkflowLoadError
from ticketbridge.workflow.svg import render_svg


def _in_force_source(name: str) -> str:
    runtime().workflows.refresh()
    try:
        return source_in_force(runtime(), name)
    except NotFound:
        abort(404)


@blueprint.get("/admin/workflows/<name>")
@admin_required
def workflow(name: str) -> str:
    _in_force_source(name)
    current = runtime().workflows.current(name)
    with runtime().db.transaction() as session:
        counts = {
            version: (open_count, closed_count)
            for version, open_count, closed_count in session.execute(
                select(
                    Ticket.workflow_version,
                    func.count().filter(Ticket.outcome.is_(None)),
                    func.count().filter(Ticket.outcome.is_not(None)),
                )
                .where(Ticket.workflow_name == name)
                .group_by(Ticket.workflow_version)
            )
        }
    return render_template(
        "staff/workflow.html", workflow=current, counts=counts, svg=render_svg(current)
    )


@blueprint.route("/admin/workflows/<name>/edit", methods=["GET", "POST"])
@admin_required
def edit_workflow(name: str) -> str | Response | tuple[str, int]:
    """Save checks the draft; a valid draft shows its picture and the replay, then publishes."""
    source = request.form.get("source") if request.method == "POST" else None
    source = _in_force_source(name) if source is None else source
    if request.method == "GET":
        return render_template("staff/workflow_edit.html", name=name, source=source)
    try:
        draft = check_draft(runtime(), name, source)
    except WorkflowLoadError as exc:
        return render_template(
            "staff/workflow_edit.html",
            name=name,
            source=source,
            problems=exc.problems,
            lines=source.splitlines(),
            bad_lines={p.position.line for p in exc.problems},
        ), 422
    if request.form.get("intent") == "publish":
        with runtime().db.transaction() as session:
            published = publish(session, runtime(), name, source, actor=me().actor)
        flash(f"Published {name} version {published.version[:12]}; new tickets start on it.")
        return redirect(url_for("staff.workflow", name=name), code=303)
    results = current_app.extensions[REPLAY](runtime(), name, draft.source)
    return render_template(
        "staff/workflow_edit.html",
        name=name,
        source=source,
        draft=draft,
        svg=render_svg(draft),
        results=results,
        unchanged=draft.version == runtime().workflows.current(name).version,
    )


@blueprint.route("/admin/workflows/<name>/migrate", methods=["GET", "POST"])
@admin_required
def migrate_workflow(name: str) -> str | Response | tuple[str, int]:
    """Open tickets of an older version onto the version in force: map, preview, confirm."""
    _in_force_source(name)
    current = runtime().workflows.current(name)
    with runtime().db.transaction() as session:
        versions = {v: s for v, s in open_versions(session, name).items() if v != current.version}
        chosen = request.values.get("from_version") or next(iter(versions), "")
        state_map = {
            state: request.form.get(f"map-{state}", state if state in current.states else "")
            for state in versions.get(chosen, {})
        }
        plan, error, status = None, None, 200
        if request.method == "POST":
            apply = request.form.get("intent") == "confirm"
            try:
                plan = migrate_open_tickets(
                    session,
                    runtime(),
                    name,
                    chosen,
                    state_map,
                    actor=me().actor,
                    now=utcnow(),
                    apply=apply,
                )
            except TicketbridgeError as exc:
                error, status = exc.message, exc.http_status
            else:
                if apply:
                    flash(f"Moved {len(plan.moves)} ticket(s) to version {current.version[:12]}.")
                    return redirect(url_for("staff.workflow", name=name), code=303)
        return render_template(
            "staff/workflow_migrate.html",
            workflow=current,
            versions=versions,
            chosen=chosen,
            state_map=state_map,
            plan=plan,
            error=error,
        ), status
