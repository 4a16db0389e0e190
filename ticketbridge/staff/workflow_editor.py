"""The admin's workflow editor: check a draft where it is typed, publish it as a new version,
move the open tickets of an older version onto it by a state map, previewed first.

A draft is checked by the loader every process uses at start (YAML, schema, steps, templates,
guards, the graph checks), so an error shows at its line and column before anything is saved.
Publishing records the checked text as a new version in force in the database (the
repository's publish): every process starts new tickets on it once the transaction commits;
tickets already open keep the version they began on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
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


@dataclass(frozen=True)
class MigrationPlan:
    """Which open tickets a state map would move, and where (computed by applying it in a
    savepoint that is rolled back, as on confirm)."""

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


def migrate_open_tickets(
    session: Session,
    runtime: Runtime,
    name: str,
    from_version: str,
    state_map: Mapping[str, str],
    *,
    actor: Actor,
    now: dt.datetime,
    apply: bool,
) -> MigrationPlan:
    """Move the open tickets of one version to the version in force; `apply=False` previews."""
    to_version = runtime.workflows.current(name).version
    before = {
        ticket_id: state
        for ticket_id, state in session.execute(
            select(Ticket.id, Ticket.state).where(
                Ticket.workflow_name == name,
                Ticket.workflow_version == from_version,
                Ticket.outcome.is_(None),
            )
        )
    }
    savepoint = session.begin_nested()
    try:
        moved = runtime.engine.migrate_tickets(
            session, name, from_version, to_version, state_map, actor=actor, now=now
        )
        after = {
            ticket_id: state
            for ticket_id, state in session.execute(
                select(Ticket.id, Ticket.state).where(Ticket.id.in_(moved))
            )
        }
    except BaseException:
        savepoint.rollback()
        raise
    if apply:
        savepoint.commit()
    else:
        savepoint.rollback()
        session.expire_all()
    moves = [(f"LIC-{ticket_id:06d}", before[ticket_id], after[ticket_id]) for ticket_id in moved]
    return MigrationPlan(from_version, to_version, moves)
