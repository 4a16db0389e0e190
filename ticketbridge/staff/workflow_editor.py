"""The admin's workflow editor: check a draft where it is typed, publish it as a new version,
move the open tickets of an older version onto it by a state map, previewed first, in batches
that report their progress.

A draft is checked by the loader every process uses at start (YAML, schema, steps, templates,
guards, the graph checks), so an error shows at its line and column before anything is saved.
Publishing records the checked text as a new version in force in the database (the
repository's publish): every process starts new tickets on it once the transaction commits;
tickets already open keep the version they began on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ticketbridge.actors import SYSTEM, Actor
from ticketbridge.clock import utcnow
from ticketbridge.errors import NotFound
from ticketbridge.intake.vocabulary import CatalogueVocabulary
from ticketbridge.runtime import Runtime
from ticketbridge.tickets.models import Ticket
from ticketbridge.workflow.definitions import Position, Workflow
from ticketbridge.workflow.loader import parse_workflow
from ticketbridge.workflow.problems import Problem, WorkflowLoadError

MAX_SOURCE = 200_000


def check_draft(runtime: Runtime, name: str, source: str) -> Workflow:
    """The parsed draft, or WorkflowLoadError with every problem at its line."""
    filename = f"{name}.yaml"
    if len(source) > MAX_SOURCE:
        raise WorkflowLoadError(
            [Problem(Position(filename, 1, 1), f"the text is over {MAX_SOURCE} characters")]
        )
    workflow = parse_workflow(
        source.replace("\r\n", "\n"),
        filename,
        steps=runtime.steps,
        templates=runtime.renderer,
        forms=CatalogueVocabulary(runtime.catalogue),
    )
    if workflow.name != name:
        raise WorkflowLoadError(
            [
                Problem(
                    Position(filename, 1, 1),
                    f"the draft is named {workflow.name!r}, not {name!r}",
                    f"keep 'name: {name}'; a new request type is a new file",
                )
            ]
        )
    return workflow


def source_in_force(runtime: Runtime, name: str) -> str:
    if name not in runtime.workflows.names():
        raise NotFound(f"no workflow {name!r}; known: {', '.join(runtime.workflows.names())}")
    return runtime.workflows.current(name).source


def publish(
    session: Session, runtime: Runtime, name: str, source: str, *, actor: Actor
) -> Workflow:
    """Check the draft, then put it in force through the repository, in the caller's
    transaction: every process uses it for new tickets once that commits."""
    check_draft(runtime, name, source)
    return runtime.workflows.publish(session, source, path=f"{name}.yaml", actor=actor)


MIGRATION_BATCH = 200
"""Tickets moved per transaction: each batch commits its moves with the run's progress, so a
failure leaves every ticket either moved or still on its old version, never half-moved."""

BatchProgress = Callable[[Session, int, int], None]
"""Told after each batch, in that batch's transaction: (session, tickets done, total)."""


@dataclass(frozen=True)
class MigrationPlan:
    """Which open tickets a state map moves, and where, as computed by the engine (in
    savepoints rolled back for a preview)."""

    from_version: str
    to_version: str
    moves: list[tuple[str, str, str]]


def open_versions(session: Session, name: str) -> dict[str, dict[str, int]]:
    """Open tickets of `name` per version and state."""
    counts: dict[str, dict[str, int]] = {}
    for version, state, count in session.execute(
        select(Ticket.workflow_version, Ticket.state, func.count())
        .where(Ticket.workflow_name == name, Ticket.outcome.is_(None))
        .group_by(Ticket.workflow_version, Ticket.state)
    ):
        counts.setdefault(version, {})[state] = count
    return counts


def check_map(
    session: Session, runtime: Runtime, name: str, from_version: str, state_map: Mapping[str, str]
) -> None:
    """Refuse a state map the engine would refuse (a target that is not a state of the version in
    force, the same version twice) before any work starts, without touching a ticket."""
    savepoint = session.begin_nested()
    try:
        runtime.engine.migrate_tickets(
            session,
            name,
            from_version,
            runtime.workflows.current(name).version,
            state_map,
            actor=SYSTEM,
            now=utcnow(),
            ticket_ids=[],
        )
    finally:
        savepoint.rollback()


def migrate_in_batches(
    runtime: Runtime,
    name: str,
    from_version: str,
    to_version: str,
    state_map: Mapping[str, str],
    *,
    actor: Actor,
    apply: bool,
    progress: BatchProgress,
) -> MigrationPlan:
    """Move the open tickets of one version to another, MIGRATION_BATCH per transaction;
    `apply=False` previews (each batch is moved in a savepoint that is rolled back).

    Tickets already moved by an earlier, interrupted run are no longer on `from_version`, so
    running it again moves only the rest."""
    with runtime.db.transaction() as session:
        ids = list(
            session.scalars(
                select(Ticket.id)
                .where(
                    Ticket.workflow_name == name,
                    Ticket.workflow_version == from_version,
                    Ticket.outcome.is_(None),
                )
                .order_by(Ticket.id)
            )
        )
    batches = [ids[i : i + MIGRATION_BATCH] for i in range(0, len(ids), MIGRATION_BATCH)]
    moves: list[tuple[str, str, str]] = []
    done = 0
    for batch in batches or [[]]:
        with runtime.db.transaction() as session:
            moves += _move_batch(
                session, runtime, name, from_version, to_version, state_map, batch, actor, apply
            )
            done += len(batch)
            progress(session, done, len(ids))
    return MigrationPlan(from_version, to_version, moves)


def _move_batch(
    session: Session,
    runtime: Runtime,
    name: str,
    from_version: str,
    to_version: str,
    state_map: Mapping[str, str],
    batch: list[int],
    actor: Actor,
    apply: bool,
) -> list[tuple[str, str, str]]:
    states = select(Ticket.id, Ticket.state)
    before = {i: state for i, state in session.execute(states.where(Ticket.id.in_(batch)))}
    savepoint = session.begin_nested()
    try:
        moved = runtime.engine.migrate_tickets(
            session,
            name,
            from_version,
            to_version,
            state_map,
            actor=actor,
            now=utcnow(),
            ticket_ids=batch,
        )
        after = {i: state for i, state in session.execute(states.where(Ticket.id.in_(moved)))}
    except BaseException:
        savepoint.rollback()
        raise
    if apply:
        savepoint.commit()
    else:
        savepoint.rollback()
    return [
        (Ticket.reference_for(ticket_id), before[ticket_id], after[ticket_id])
        for ticket_id in moved
    ]
