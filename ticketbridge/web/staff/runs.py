"""Admin: a replay or a migration running in the background — its progress (the page refreshes
itself while it runs), then its result: the tickets a draft would end differently, or the
previewed moves with the button that applies them."""

from __future__ import annotations

import threading
from collections import Counter

from flask import current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ticketbridge.clock import utcnow
from ticketbridge.http.context import runtime
from ticketbridge.staff import runs
from ticketbridge.staff.models import RunPhase, RunStatus
from ticketbridge.staff.workflow_editor import check_draft
from ticketbridge.web.staff import REPLAY, blueprint
from ticketbridge.web.staff.auth import admin_required, me
from ticketbridge.workflow.svg import render_svg

MOVES_SHOWN = 500
REFRESH_SECONDS = 2


def launch(run_id: int) -> Response:
    """Start the committed run's work in a background thread and send the admin to its page."""
    threading.Thread(
        target=runs.execute,
        args=(runtime(), run_id, current_app.extensions[REPLAY]),
        name=f"admin-run-{run_id}",
        daemon=True,
    ).start()
    return redirect(url_for("staff.admin_run", run_id=run_id), code=303)


@blueprint.get("/admin/runs/<int:run_id>")
@admin_required
def admin_run(run_id: int) -> str:
    now = utcnow()
    with runtime().db.transaction() as session:
        run = runs.get_run(session, run_id)
        moves = [tuple(move) for move in run.result.get("moves", [])]
        draft = (
            check_draft(runtime(), run.workflow_name, run.params["source"])
            if run.phase is RunPhase.REPLAY and run.status is RunStatus.FINISHED
            else None
        )
        return render_template(
            "staff/run.html",
            run=run,
            stalled=runs.stalled(run, now),
            refresh=REFRESH_SECONDS if run.status is RunStatus.RUNNING else None,
            moves=moves[:MOVES_SHOWN],
            more_moves=max(0, len(moves) - MOVES_SHOWN),
            move_counts=sorted(Counter((source, target) for _, source, target in moves).items()),
            draft=draft,
            svg=render_svg(draft) if draft else None,
        )


@blueprint.post("/admin/runs/<int:run_id>/confirm")
@admin_required
def confirm_run(run_id: int) -> Response:
    """The admin read the preview and confirms: the moves are applied in the background."""
    with runtime().db.transaction() as session:
        run = runs.confirm(session, run_id, actor=me().actor, now=utcnow())
        flash(f"Moving the open tickets of {run.workflow_name}; this page shows the progress.")
    return launch(run_id)
