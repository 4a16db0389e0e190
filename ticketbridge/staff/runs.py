"""An admin's work on many tickets, done outside the request with its progress in the database.

A replay of closed tickets against a draft, and a migration's preview and then its apply, can
take minutes. The page starts a run (a row in admin_runs) and polls it; the work itself runs in
a background thread (`execute`) that writes its progress to the row as it goes and its result
when it ends. Nothing is written to a ticket before the admin confirms a finished preview; the
apply moves tickets in batches whose moves commit together with the row's progress, so a
failure or a stopped process leaves each ticket moved or untouched, the row says how many
moved, and resuming moves only the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.clock import utcnow
from ticketbridge.errors import Conflict, NotFound, TicketbridgeError
from ticketbridge.runtime import Runtime
from ticketbridge.staff.models import AdminRun, RunPhase, RunStatus
from ticketbridge.staff.workflow_editor import migrate_in_batches

log = logging.getLogger(__name__)

STALLED_AFTER = dt.timedelta(minutes=5)
"""A running run with no progress for this long lost its process (a restart, a deploy)."""


class ReplayResult(Protocol):
    @property
    def reference(self) -> str: ...
    @property
    def recorded(self) -> str: ...
    @property
    def in_force(self) -> str: ...
    @property
    def draft(self) -> str: ...
    @property
    def differs(self) -> bool: ...


Replay = Callable[[Runtime, str, str, Callable[[int, int], None]], Sequence[ReplayResult]]
"""The app's replay of the last closed tickets of a workflow against a draft (it builds
throwaway runtimes, so the app factory hands it in): (runtime, name, draft, progress)."""


def start(
    session: Session, name: str, phase: RunPhase, params: dict[str, Any], *, actor: Actor
) -> AdminRun:
    run = AdminRun(
        workflow_name=name,
        phase=phase,
        status=RunStatus.RUNNING,
        params=params,
        result={},
        started_by=actor,
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> AdminRun:
    run = session.get(AdminRun, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    return run


def stalled(run: AdminRun, now: dt.datetime) -> bool:
    return run.status is RunStatus.RUNNING and now - run.updated_at > STALLED_AFTER


def confirm(session: Session, run_id: int, *, actor: Actor, now: dt.datetime) -> AdminRun:
    """Apply a finished preview; or resume an apply that failed or stopped (it moves the rest)."""
    run = session.get(AdminRun, run_id, with_for_update=True)
    if run is None:
        raise NotFound(f"no run {run_id}")
    previewed = run.phase is RunPhase.PREVIEW and run.status is RunStatus.FINISHED
    interrupted = run.phase is RunPhase.APPLY and (
        run.status is RunStatus.FAILED or stalled(run, now)
    )
    if not (previewed or interrupted):
        raise Conflict(
            "only a finished preview can be applied, or an interrupted apply resumed; "
            f"this run is {run.phase} and {run.status}"
        )
    run.phase, run.status, run.error = RunPhase.APPLY, RunStatus.RUNNING, None
    run.confirmed_by, run.updated_at = actor, now
    return run


def _record(runtime: Runtime, run_id: int, session: Session | None = None, **values: Any) -> None:
    """Write to the run's row: in the caller's transaction when given (a batch's moves and its
    progress commit together), else in a short one of its own."""
    statement = update(AdminRun).where(AdminRun.id == run_id).values(updated_at=utcnow(), **values)
    if session is not None:
        session.execute(statement)
        return
    with runtime.db.transaction() as own:
        own.execute(statement)


def execute(runtime: Runtime, run_id: int, replay: Replay) -> None:
    """Do the run's work (in a background thread): its progress and result go to its row; any
    failure is recorded on the row, never raised, since no request is waiting for it."""
    with runtime.db.transaction() as session:
        run = get_run(session, run_id)
        name, phase, params = run.workflow_name, run.phase, dict(run.params)
        actor = run.confirmed_by or run.started_by
    try:
        if phase is RunPhase.REPLAY:
            result = _replay(runtime, run_id, name, params, replay)
        else:
            result = _migrate(runtime, run_id, name, params, actor, apply=phase is RunPhase.APPLY)
    except TicketbridgeError as exc:
        _record(runtime, run_id, status=RunStatus.FAILED, error=exc.message)
    except Exception as exc:
        log.exception("admin run %s (%s of %s) failed", run_id, phase, name)
        _record(
            runtime,
            run_id,
            status=RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc} (the full error is in the service's log)",
        )
    else:
        _record(runtime, run_id, status=RunStatus.FINISHED, result=result)


def _replay(
    runtime: Runtime, run_id: int, name: str, params: dict[str, Any], replay: Replay
) -> dict[str, Any]:
    results = replay(
        runtime,
        name,
        params["source"],
        lambda done, total: _record(runtime, run_id, done=done, total=total),
    )
    return {
        "replayed": len(results),
        "differences": [
            {
                "reference": r.reference,
                "recorded": r.recorded,
                "in_force": r.in_force,
                "draft": r.draft,
            }
            for r in results
            if r.differs
        ],
    }


def _migrate(
    runtime: Runtime,
    run_id: int,
    name: str,
    params: dict[str, Any],
    actor: Actor,
    *,
    apply: bool,
) -> dict[str, Any]:
    plan = migrate_in_batches(
        runtime,
        name,
        params["from_version"],
        params["to_version"],
        params["state_map"],
        actor=actor,
        apply=apply,
        progress=lambda session, done, total: _record(
            runtime, run_id, session, done=done, total=total
        ),
    )
    return {"moves": [list(move) for move in plan.moves]}
