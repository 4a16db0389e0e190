"""The workflows in force, and every earlier version a ticket may still be running on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ticketbridge.db import Database
from ticketbridge.errors import NotFound
from ticketbridge.workflow.definitions import Position, Workflow
from ticketbridge.workflow.loader import (
    FormVocabulary,
    StepCatalog,
    TemplateCatalog,
    load_workflow,
    parse_workflow,
)
from ticketbridge.workflow.models import WorkflowVersion
from ticketbridge.workflow.problems import Problem, WorkflowLoadError


def workflow_files(paths: list[Path]) -> list[Path]:
    """The YAML files named, and those directly inside the folders named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def load_files(
    files: list[Path], *, steps: StepCatalog, templates: TemplateCatalog, forms: FormVocabulary
) -> dict[str, Workflow]:
    """Load and check each file; all problems of all files are reported together."""
    workflows: dict[str, Workflow] = {}
    problems: list[Problem] = []
    for path in files:
        try:
            workflow = load_workflow(path, steps=steps, templates=templates, forms=forms)
        except WorkflowLoadError as exc:
            problems.extend(exc.problems)
            continue
        except OSError as exc:
            problems.append(
                Problem(
                    Position(str(path), 1, 1),
                    f"cannot read the file: {exc.strerror}",
                    "check the path",
                )
            )
            continue
        if workflow.name != path.stem:
            problems.append(
                Problem(
                    Position(str(path), 1, 1),
                    f"workflow name {workflow.name!r} differs from its file name {path.stem!r}",
                    f"rename the file to {workflow.name}.yaml or set 'name: {path.stem}'",
                )
            )
        workflows[workflow.name] = workflow
    if problems:
        raise WorkflowLoadError(problems)
    return workflows


def load_folder(
    folder: Path, *, steps: StepCatalog, templates: TemplateCatalog, forms: FormVocabulary
) -> dict[str, Workflow]:
    return load_files(workflow_files([folder]), steps=steps, templates=templates, forms=forms)


class WorkflowRepository:
    def __init__(
        self,
        folder: Path,
        db: Database,
        *,
        steps: StepCatalog,
        templates: TemplateCatalog,
        forms: FormVocabulary,
    ) -> None:
        self.folder = folder
        self._db = db
        self._steps = steps
        self._templates = templates
        self._forms = forms
        self._current = load_folder(folder, steps=steps, templates=templates, forms=forms)
        self._versions = {(w.name, w.version): w for w in self._current.values()}

    def names(self) -> list[str]:
        return sorted(self._current)

    def current(self, name: str) -> Workflow:
        try:
            return self._current[name]
        except KeyError:
            raise NotFound(
                f"no workflow for request type {name!r}; known: {', '.join(self.names())}"
            ) from None

    def get(self, name: str, version: str, session: Session | None = None) -> Workflow:
        """The exact version a ticket started on; earlier versions are read back from the database.

        Pass the open session when there is one: on SQLite every transaction takes the write lock
        at BEGIN, so a second transaction opened here would wait for the caller's to end.
        """
        workflow = self._versions.get((name, version))
        if workflow is None:
            if session is None:
                with self._db.transaction() as own:
                    workflow = self._load_stored(own, name, version)
            else:
                workflow = self._load_stored(session, name, version)
            self._versions[(name, version)] = workflow
        return workflow

    def _load_stored(self, session: Session, name: str, version: str) -> Workflow:
        row = session.scalars(
            select(WorkflowVersion).where(
                WorkflowVersion.name == name, WorkflowVersion.version == version
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"workflow {name!r} version {version} is not recorded")
        return parse_workflow(
            row.source,
            row.path,
            steps=self._steps,
            templates=self._templates,
            forms=self._forms,
            checks=False,
        )

    def record_versions(self) -> None:
        """Keep the text of every loaded version; idempotent, so every process may call it at
        start."""
        try:
            self._insert_new_versions()
        except IntegrityError:
            self._insert_new_versions()

    def _insert_new_versions(self) -> None:
        """A process starting at the same moment may insert the same row: the retry then finds
        it."""
        with self._db.transaction() as session:
            keys = [(w.name, w.version) for w in self._current.values()]
            known = (
                set(
                    session.execute(
                        select(WorkflowVersion.name, WorkflowVersion.version).where(
                            tuple_(WorkflowVersion.name, WorkflowVersion.version).in_(keys)
                        )
                    ).tuples()
                )
                if keys
                else set()
            )
            for workflow in self._current.values():
                if (workflow.name, workflow.version) not in known:
                    session.add(
                        WorkflowVersion(
                            name=workflow.name,
                            version=workflow.version,
                            source=workflow.source,
                            path=workflow.path,
                        )
                    )
