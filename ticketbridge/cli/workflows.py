"""`ticketbridge workflows …`: list, check, schema, graph, simulate, replay and migrate
workflows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from ticketbridge.actors import SYSTEM, Actor
from ticketbridge.cli.context import State, pass_state
from ticketbridge.config import Settings
from ticketbridge.errors import NotFound, TicketbridgeError
from ticketbridge.replay import DEFAULT_COUNT, last_closed, replay
from ticketbridge.staff.workflow_editor import check_draft
from ticketbridge.workflow.definitions import Workflow


@click.group("workflows")
def workflows_group() -> None:
    """Workflow definitions (workflows/*.yaml)."""


@workflows_group.command("list")
@pass_state
def workflows_list(state: State) -> None:
    """List the workflows in force with their versions."""
    for name in state.runtime.workflows.names():
        workflow = state.runtime.workflows.current(name)
        click.echo(f"{workflow.name}\t{workflow.version}\t{workflow.title}")


def _load_files(settings: Settings, files: list[Path]) -> dict[str, Workflow]:
    """Workflows straight from their files, with the configured steps, templates and catalogue:
    reading needs no database."""
    from ticketbridge.intake.vocabulary import CatalogueVocabulary
    from ticketbridge.licenses.catalogue import load_catalogue
    from ticketbridge.outbox.render import TemplateRenderer
    from ticketbridge.steps import installed
    from ticketbridge.workflow.repository import load_files

    return load_files(
        files,
        steps=installed.load(),
        templates=TemplateRenderer(settings.email_templates_path),
        forms=CatalogueVocabulary(load_catalogue(settings.catalogue_path)),
    )


def _load_workflow(settings: Settings, name: str) -> Workflow:
    path = settings.workflows_path / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in settings.workflows_path.glob("*.yaml")))
        raise NotFound(f"no workflow {name!r} in {settings.workflows_path}; known: {known}")
    return _load_files(settings, [path])[name]


@workflows_group.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@pass_state
def workflows_check(state: State, paths: tuple[Path, ...]) -> None:
    """Check workflow files (default: the workflows folder), the catalogue names they use and the
    variables of the emails they send; each problem as file:line:column."""
    from ticketbridge.licenses.catalogue import load_catalogue
    from ticketbridge.workflow.domain_check import domain_problems
    from ticketbridge.workflow.problems import WorkflowLoadError
    from ticketbridge.workflow.repository import workflow_files

    settings = state.settings
    files = workflow_files(list(paths) or [settings.workflows_path])
    try:
        loaded = _load_files(settings, files)
        problems = domain_problems(
            loaded.values(),
            load_catalogue(settings.catalogue_path),
            settings.email_templates_path,
        )
        if problems:
            raise WorkflowLoadError(problems)
    except WorkflowLoadError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(
            f"{len(exc.problems)} problem(s) in "
            f"{len({p.position.file for p in exc.problems})} of {len(files)} file(s)",
            err=True,
        )
        raise SystemExit(1) from None
    click.echo(f"{len(loaded)} workflow(s) checked, no problems")


@workflows_group.command("schema")
@click.option(
    "--write",
    is_flag=True,
    help="Write it to <workflows folder>/workflow.schema.json instead of printing it.",
)
@pass_state
def workflows_schema(state: State, write: bool) -> None:
    """Print the JSON Schema of the workflow language (for editors), generated from the loader and
    the steps."""
    from ticketbridge.intake.checks import CHECKS
    from ticketbridge.steps import installed
    from ticketbridge.workflow.schema import SCHEMA_FILE_NAME, schema_text

    text = schema_text(installed.load(), CHECKS.names())
    if write:
        path = state.settings.workflows_path / SCHEMA_FILE_NAME
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
    else:
        click.echo(text, nl=False)


@workflows_group.command("graph")
@click.argument("name")
@pass_state
def workflows_graph(state: State, name: str) -> None:
    """Print workflow NAME (from the workflows folder) as a Mermaid state diagram, the trigger on
    each arrow."""
    from ticketbridge.workflow.graph import mermaid

    click.echo(mermaid(_load_workflow(state.settings, name)), nl=False)


@workflows_group.command("simulate")
@click.argument("name")
@click.option(
    "--data",
    "data_file",
    required=True,
    type=click.File("rb"),
    help="The request form as a JSON object.",
)
@click.option(
    "--event",
    "events",
    multiple=True,
    metavar="EVENT",
    help='reply, timer:NAME, manual:NAME or manual:NAME:\'{"field": "value"}\'; repeatable, '
    "in order.",
)
@pass_state
def workflows_simulate(state: State, name: str, data_file: Any, events: tuple[str, ...]) -> None:
    """Walk a ticket through workflow NAME in a throwaway database, printing each state, transition,
    action and email."""
    from ticketbridge.simulation import SimulatedEvent, json_object, simulate

    form = json_object(data_file.read(), f"--data {data_file.name}")
    simulate(state.settings, name, form, [SimulatedEvent.parse(e) for e in events], click.echo)


@workflows_group.command("migrate")
@click.argument("name")
@click.option("--from", "from_version", required=True, help="The version the tickets run on now.")
@click.option(
    "--to",
    "to_version",
    default=None,
    help="The version to move them to (default: the one in force).",
)
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="OLD=NEW",
    help="Where tickets in state OLD go; every state in use must be mapped.",
)
@click.option(
    "--as",
    "staff_email",
    default=None,
    metavar="EMAIL",
    help="The staff account named on each ticket's timeline (default: the system).",
)
@click.option("--yes", is_flag=True, help="Apply without asking, after printing the preview.")
@pass_state
def workflows_migrate(
    state: State,
    name: str,
    from_version: str,
    to_version: str | None,
    mappings: tuple[str, ...],
    staff_email: str | None,
    yes: bool,
) -> None:
    """Move the open tickets of workflow NAME from one version to another: a preview first
    (nothing written), then, once confirmed, the move in batches, with progress on stderr.

    An interrupted move leaves each ticket moved or untouched; the same command moves the rest."""
    from ticketbridge.staff.workflow_editor import migrate_in_batches
    from ticketbridge.tickets.operator import staff_member

    state_map: dict[str, str] = {}
    for mapping in mappings:
        old, sep, new = mapping.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{mapping!r} is not OLD=NEW", param_hint="--map")
        state_map[old.strip()] = new.strip()
    runtime = state.runtime
    actor = SYSTEM
    if staff_email is not None:
        with runtime.db.transaction() as session:
            actor = Actor.staff_account(staff_member(session, staff_email).id)
    target = to_version or runtime.workflows.current(name).version

    counted = [0, 0]

    def progress(verb: str, done: int, total: int) -> None:
        counted[:] = [done, total]
        click.echo(f"{verb} {done}/{total}", err=True)

    def run(apply: bool) -> list[tuple[str, str, str]]:
        verb = "moved" if apply else "previewed"
        return migrate_in_batches(
            runtime,
            name,
            from_version,
            target,
            state_map,
            actor=actor,
            apply=apply,
            progress=lambda _session, done, total: progress(verb, done, total),
        ).moves

    moves = run(apply=False)
    for (source, goal), count in sorted(Counter((s, t) for _, s, t in moves).items()):
        click.echo(f"{source} → {goal}\t{count} ticket(s)")
    if moves and not yes:
        click.confirm(f"Move {len(moves)} ticket(s) of {name} to version {target}?", abort=True)
    counted[:] = [0, len(moves)]
    try:
        moved = run(apply=True) if moves else []
    except TicketbridgeError as exc:
        raise TicketbridgeError(
            f"{exc.message}. {counted[0]} of {counted[1]} ticket(s) were moved; the others are "
            f"still on version {from_version}, untouched: the same command moves the rest"
        ) from None
    click.echo(f"moved {len(moved)} ticket(s) of {name} from version {from_version} to {target}")


@workflows_group.command("replay")
@click.argument("name")
@click.argument("draft", type=click.File("r", encoding="utf-8"))
@click.option(
    "--count",
    default=DEFAULT_COUNT,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="How many of the last closed tickets to replay.",
)
@pass_state
def workflows_replay(state: State, name: str, draft: Any, count: int) -> None:
    """Replay the last closed tickets of NAME on the version in force and on DRAFT (a YAML
    file) in throwaway databases, and list those that would end differently."""
    runtime = state.runtime
    source = draft.read()
    check_draft(runtime, name, source)
    tickets = last_closed(runtime, name, count)
    results = replay(
        runtime,
        name,
        source,
        tickets,
        progress=lambda done, total: click.echo(f"replayed {done}/{total}", err=True),
    )
    different = [result for result in results if result.differs]
    for result in different:
        click.echo(f"{result.reference}\t{result.in_force}\t→ {result.draft}")
    click.echo(f"{len(different)} of {len(results)} ticket(s) would end differently")
