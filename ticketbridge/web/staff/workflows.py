"""Admin: one workflow's versions and picture, the YAML editor that checks on save, the replay
of closed tickets against the draft and moving open tickets onto a new version (both run in
the background: web/staff/runs.py shows their progress), and publishing a draft."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ticketbridge.errors import NotFound, TicketbridgeError
from ticketbridge.http.context import runtime
from ticketbridge.staff import runs
from ticketbridge.staff.models import RunPhase
from ticketbridge.staff.workflow_editor import (
    check_draft,
    check_map,
    open_versions,
    publish,
    source_in_force,
)
from ticketbridge.tickets.models import Ticket
from ticketbridge.web.staff import blueprint
from ticketbridge.web.staff.auth import admin_required, me
from ticketbridge.web.staff.runs import launch
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


def _draft_source(name: str) -> str:
    """The text the editor opens with: a run's draft (back from its replay), else the version
    in force."""
    run_id = request.args.get("run", type=int)
    if run_id is not None:
        with runtime().db.transaction() as session:
            run = runs.get_run(session, run_id)
            if run.workflow_name == name and run.phase is RunPhase.REPLAY:
                return str(run.params["source"])
    return _in_force_source(name)


@blueprint.route("/admin/workflows/<name>/edit", methods=["GET", "POST"])
@admin_required
def edit_workflow(name: str) -> str | Response | tuple[str, int]:
    """Save checks the draft; a valid draft is replayed in the background (its page shows the
    progress, then the differences and the publish button); publish puts it in force."""
    _in_force_source(name)
    if request.method == "GET":
        return render_template("staff/workflow_edit.html", name=name, source=_draft_source(name))
    source = request.form.get("source", "")
    try:
        check_draft(runtime(), name, source)
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
    with runtime().db.transaction() as session:
        run_id = runs.start(session, name, RunPhase.REPLAY, {"source": source}, actor=me().actor).id
    return launch(run_id)


@blueprint.route("/admin/workflows/<name>/migrate", methods=["GET", "POST"])
@admin_required
def migrate_workflow(name: str) -> str | Response | tuple[str, int]:
    """Open tickets of an older version onto the version in force: map, then a preview run in
    the background, whose page asks for the confirmation."""
    _in_force_source(name)
    current = runtime().workflows.current(name)
    with runtime().db.transaction() as session:
        versions = {v: s for v, s in open_versions(session, name).items() if v != current.version}
        chosen = request.values.get("from_version") or next(iter(versions), "")
        state_map = {
            state: request.form.get(f"map-{state}", state if state in current.states else "")
            for state in versions.get(chosen, {})
        }
        error, status, run_id = None, 200, None
        if request.method == "POST":
            try:
                check_map(session, runtime(), name, chosen, state_map)
            except TicketbridgeError as exc:
                error, status = exc.message, exc.http_status
            else:
                params = {
                    "from_version": chosen,
                    "to_version": current.version,
                    "state_map": state_map,
                }
                run_id = runs.start(session, name, RunPhase.PREVIEW, params, actor=me().actor).id
    if run_id is not None:
        return launch(run_id)
    return render_template(
        "staff/workflow_migrate.html",
        workflow=current,
        versions=versions,
        chosen=chosen,
        state_map=state_map,
        error=error,
    ), status
