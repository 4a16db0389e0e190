"""The workflows in force, and every earlier version a ticket may still be running on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ticketbridge.actors import SYSTEM, Actor
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
from ticketbridge.workflow.models import WorkflowPublication, WorkflowVersion
from ticketbridge.workflow.problems import Problem, WorkflowLoadError

_REFRESHED = "ticketbridge.workflows.refreshed"


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
    """The workflow versions: the one in force per request type, as the database says, and every
    earlier version a ticket may still be running on.

    Publishing a version adds a row (`publish` for a text, from the staff editor; `publish_folder`
    at start, for the workflows folder). Every process notices a new publication with one small
    query per transaction (`refresh`) and loads it, so none needs a restart.
    """

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
        self._folder = load_folder(folder, steps=steps, templates=templates, forms=forms)
        self._versions = {(w.name, w.version): w for w in self._folder.values()}
        self._current: dict[str, Workflow] = {}
        self._seen: tuple[int, int] | None = None

    def names(self) -> list[str]:
        return sorted(self._current)

    def current(self, name: str) -> Workflow:
        """The version in force when this process last looked (`refresh`)."""
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
        return workflow

    def publish(self, session: Session, source: str, *, path: str, actor: Actor) -> Workflow:
        """Put this YAML text in force as a version of the workflow it names, in the caller's
        transaction; every process uses it for new tickets once that commits.

        The text is checked like a file at start: a problem raises WorkflowLoadError with
        `path:line:column`. Tickets already open stay on their version.
        """
        workflow = parse_workflow(
            source, path, steps=self._steps, templates=self._templates, forms=self._forms
        )
        self._publish(session, workflow, from_folder=False, actor=actor)
        return workflow

    def publish_folder(self) -> None:
        """Publish each folder file whose version is not the last one published from the folder,
        then load the versions in force; every process calls it at start.

        So a deploy (a changed file, a rolled-back one too) takes effect, and a restart with an
        unchanged folder keeps a version published from the editor since. Two processes starting
        together may record the same version: the loser of that race retries and finds it.
        """
        try:
            self._publish_folder()
        except IntegrityError:
            self._publish_folder()

    def refresh(self, session: Session | None = None) -> None:
        """Load the versions in force if anything was published since this process last looked:
        one small query, at most once per transaction."""
        if session is None:
            self._db.read(self.refresh)
            return
        if session.info.get(_REFRESHED) is self:
            return
        session.info[_REFRESHED] = self
        with session.no_autoflush:  # a ticket being opened is not complete yet
            newest, count = session.execute(
                select(func.max(WorkflowPublication.id), func.count(WorkflowPublication.id))
            ).one()
            seen = (newest or 0, count)
            if seen != self._seen:
                self._current = self._in_force(session)
                self._seen = seen

    def _in_force(self, session: Session) -> dict[str, Workflow]:
        newest = select(func.max(WorkflowPublication.id)).group_by(WorkflowPublication.name)
        rows = session.scalars(
            select(WorkflowVersion)
            .join(WorkflowPublication, WorkflowPublication.version_id == WorkflowVersion.id)
            .where(WorkflowPublication.id.in_(newest))
        )
        return {row.name: self._workflow(row) for row in rows}

    def _publish_folder(self) -> None:
        with self._db.transaction() as session:
            newest = (
                select(func.max(WorkflowPublication.id))
                .where(WorkflowPublication.from_folder.is_(True))
                .group_by(WorkflowPublication.name)
            )
            last = dict(
                session.execute(
                    select(WorkflowVersion.name, WorkflowVersion.version)
                    .join(WorkflowPublication, WorkflowPublication.version_id == WorkflowVersion.id)
                    .where(WorkflowPublication.id.in_(newest))
                )
                .tuples()
                .all()
            )
            for workflow in self._folder.values():
                if last.get(workflow.name) != workflow.version:
                    self._publish(session, workflow, from_folder=True, actor=SYSTEM)
            self.refresh(session)

    def _publish(
        self, session: Session, workflow: Workflow, *, from_folder: bool, actor: Actor
    ) -> None:
        row = session.scalars(
            select(WorkflowVersion).where(
                WorkflowVersion.name == workflow.name, WorkflowVersion.version == workflow.version
            )
        ).one_or_none()
        if row is None:
            row = WorkflowVersion(
                name=workflow.name,
                version=workflow.version,
                source=workflow.source,
                path=workflow.path,
            )
            session.add(row)
            session.flush()
        session.add(
            WorkflowPublication(
                name=workflow.name, version_id=row.id, from_folder=from_folder, published_by=actor
            )
        )
        session.flush()
        self._versions.setdefault((workflow.name, workflow.version), workflow)

    def _load_stored(self, session: Session, name: str, version: str) -> Workflow:
        row = session.scalars(
            select(WorkflowVersion).where(
                WorkflowVersion.name == name, WorkflowVersion.version == version
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"workflow {name!r} version {version} is not recorded")
        return self._workflow(row)

    def _workflow(self, row: WorkflowVersion) -> Workflow:
        """A stored version, parsed once per process; without the graph checks, which it passed
        when it was published (a check added since must not strand its tickets)."""
        key = (row.name, row.version)
        if key not in self._versions:
            self._versions[key] = parse_workflow(
                row.source,
                row.path,
                steps=self._steps,
                templates=self._templates,
                forms=self._forms,
                checks=False,
            )
        return self._versions[key]
