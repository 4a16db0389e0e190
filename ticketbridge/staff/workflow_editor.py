"""The admin's workflow editor: check a draft where it is typed, publish it as a new version.

A draft is checked by the loader every process uses at start (YAML, schema, steps, templates,
guards, the graph checks), so an error shows at its line and column before anything is saved.
Publishing writes the checked text as the workflow's file in the workflows folder, records the
version in the database, and swaps this process's repository: new tickets start on it at once,
tickets already open keep the version they began on. Until the version in force is read from
the database by every process, other processes pick a published version up at their restart.
"""

from __future__ import annotations

import os
from pathlib import Path

from ticketbridge.errors import NotFound
from ticketbridge.intake.vocabulary import CatalogueVocabulary
from ticketbridge.services import Services
from ticketbridge.workflow.definitions import Position, Workflow
from ticketbridge.workflow.loader import parse_workflow
from ticketbridge.workflow.problems import Problem, WorkflowLoadError
from ticketbridge.workflow.repository import WorkflowRepository

MAX_SOURCE = 200_000


def check_draft(services: Services, name: str, source: str) -> Workflow:
    """The parsed draft, or WorkflowLoadError with every problem at its line."""
    filename = f"{name}.yaml"
    if len(source) > MAX_SOURCE:
        raise WorkflowLoadError(
            [Problem(Position(filename, 1, 1), f"the text is over {MAX_SOURCE} characters")]
        )
    workflow = parse_workflow(
        source.replace("\r\n", "\n"),
        filename,
        steps=services.steps,
        templates=services.renderer,
        forms=CatalogueVocabulary(services.catalogue),
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


def source_in_force(services: Services, name: str) -> str:
    if name not in services.workflows.names():
        raise NotFound(f"no workflow {name!r}; known: {', '.join(services.workflows.names())}")
    return services.workflows.current(name).source


def publish(services: Services, name: str, source: str) -> Workflow:
    """Check, write the file (atomically), record the version and start using it here."""
    workflow = check_draft(services, name, source)
    folder: Path = services.settings.workflows_path
    target = folder / f"{name}.yaml"
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_text(workflow.source, encoding="utf-8")
    partial.replace(target)
    repository = WorkflowRepository(
        folder,
        services.db,
        steps=services.steps,
        templates=services.renderer,
        forms=CatalogueVocabulary(services.catalogue),
    )
    repository.record_versions()
    services.workflows = repository
    return repository.current(name)
