"""The `ticketbridge` command: the one entry point for operators.

Domain errors become one line on stderr and exit status 1, here and nowhere else.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from ticketbridge.clock import utcnow
from ticketbridge.config import SECRET_SETTINGS, Settings, load_settings
from ticketbridge.errors import NotFound, TicketbridgeError
from ticketbridge.intake.cli import mail_group, tickets_group
from ticketbridge.licenses.cli import billing_group, license_group
from ticketbridge.services import Services, build_services
from ticketbridge.workflow.definitions import Workflow


class Command(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TicketbridgeError as exc:
            raise click.ClickException(exc.message) from None


class State:
    """Settings and services, built on first use so `--help` works with any configuration."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._services: Services | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = build_services(self.settings)
        return self._services


pass_state = click.make_pass_decorator(State, ensure=True)


@click.group(cls=Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default="INFO", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def main(log_level: str) -> None:
    """ticketbridge: license requests in, tickets through YAML workflows, outcomes out by email."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(log_level)))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="gunicorn worker processes (1 on SQLite).")
@pass_state
def serve(state: State, host: str, port: int, workers: int | None) -> None:
    """Run the web service (migrating the database first); on the embedded default, jobs too."""
    from ticketbridge import migrate
    from ticketbridge.server import run_server

    migrate.upgrade(state.settings.database_url)
    run_server(state.settings, host=host, port=port, workers=workers)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--sweep/--no-sweep", default=True, show_default=True, help="Also re-enqueue due work from the database.")
@pass_state
def worker(state: State, burst: bool, sweep: bool) -> None:
    """Run an rq worker (with its scheduler) for TICKETBRIDGE_REDIS_URL."""
    from ticketbridge.worker import run_worker

    run_worker(state.services, burst=burst, sweep=sweep)


@main.command("sweep")
@pass_state
def sweep_command(state: State) -> None:
    """Re-enqueue, once, every ticket step and email the database says is due."""
    from ticketbridge.jobs.sweeper import sweep

    report = sweep(state.services, utcnow())
    click.echo(f"enqueued {report.tickets} ticket(s), {report.timers} timer(s) and {report.emails} email(s)")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_state
def db_upgrade(state: State, revision: str) -> None:
    """Apply migrations up to REVISION; running it again changes nothing."""
    from ticketbridge import migrate

    migrate.upgrade(state.settings.database_url, revision)
    click.echo(f"database at {migrate.current(state.settings.database_url)}")


@db.command("current")
@pass_state
def db_current(state: State) -> None:
    """Print the database's schema revision."""
    from ticketbridge import migrate

    click.echo(migrate.current(state.settings.database_url) or "empty (run `ticketbridge db upgrade`)")


@main.group()
def workflows() -> None:
    """Workflow definitions (workflows/*.yaml)."""


@workflows.command("list")
@pass_state
def workflows_list(state: State) -> None:
    """List the workflows in force with their versions."""
    for name in state.services.workflows.names():
        workflow = state.services.workflows.current(name)
        click.echo(f"{workflow.name}\t{workflow.version}\t{workflow.title}")


def _load_workflow(settings: Settings, name: str) -> Workflow:
    """One workflow straight from its file: reading needs no database."""
    from ticketbridge.outbox.render import TemplateRenderer
    from ticketbridge.steps import registry
    from ticketbridge.workflow.repository import load_files

    path = settings.workflows_path / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in settings.workflows_path.glob("*.yaml")))
        raise NotFound(f"no workflow {name!r} in {settings.workflows_path}; known: {known}")
    return load_files([path], steps=registry.load(), templates=TemplateRenderer(settings.email_templates_path))[name]


@workflows.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@pass_state
def workflows_check(state: State, paths: tuple[Path, ...]) -> None:
    """Check workflow files (default: the workflows folder); each problem as file:line:column."""
    from ticketbridge.outbox.render import TemplateRenderer
    from ticketbridge.steps import registry
    from ticketbridge.workflow.problems import WorkflowLoadError
    from ticketbridge.workflow.repository import load_files, workflow_files

    files = workflow_files(list(paths) or [state.settings.workflows_path])
    try:
        loaded = load_files(files, steps=registry.load(), templates=TemplateRenderer(state.settings.email_templates_path))
    except WorkflowLoadError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(f"{len(exc.problems)} problem(s) in {len({p.position.file for p in exc.problems})} of {len(files)} file(s)", err=True)
        raise SystemExit(1) from None
    click.echo(f"{len(loaded)} workflow(s) checked, no problems")


@workflows.command("schema")
@click.option("--write", is_flag=True, help="Write it to <workflows folder>/workflow.schema.json instead of printing it.")
@pass_state
def workflows_schema(state: State, write: bool) -> None:
    """Print the JSON Schema of the workflow language (for editors), generated from the loader and the steps."""
    from ticketbridge.steps import registry
    from ticketbridge.workflow.schema import SCHEMA_FILE_NAME, schema_text

    text = schema_text(registry.load())
    if write:
        path = state.settings.workflows_path / SCHEMA_FILE_NAME
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
    else:
        click.echo(text, nl=False)


@workflows.command("graph")
@click.argument("name")
@pass_state
def workflows_graph(state: State, name: str) -> None:
    """Print workflow NAME (from the workflows folder) as a Mermaid state diagram, the trigger on each arrow."""
    from ticketbridge.workflow.graph import mermaid

    click.echo(mermaid(_load_workflow(state.settings, name)), nl=False)


@workflows.command("simulate")
@click.argument("name")
@click.option("--data", "data_file", required=True, type=click.File("r", encoding="utf-8"), help="The request form as a JSON object.")
@click.option("--event", "events", multiple=True, metavar="EVENT", help="reply, timer:NAME, manual:NAME or manual:NAME:'{\"field\": \"value\"}'; repeatable, in order.")
@pass_state
def workflows_simulate(state: State, name: str, data_file: Any, events: tuple[str, ...]) -> None:
    """Walk a ticket through workflow NAME in a throwaway database, printing each state, transition, action and email."""
    from ticketbridge.workflow.simulate import SimulatedEvent, simulate

    try:
        form = json.load(data_file)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from None
    simulate(state.settings, name, form, [SimulatedEvent.parse(e) for e in events], click.echo)


@workflows.command("migrate")
@click.argument("name")
@click.option("--from", "from_version", required=True, help="The version the tickets run on now.")
@click.option("--to", "to_version", default=None, help="The version to move them to (default: the one in force).")
@click.option("--map", "mappings", multiple=True, metavar="OLD=NEW", help="Where tickets in state OLD go; every state in use must be mapped.")
@click.option("--actor", default="admin:cli", show_default=True, help="Who is recorded on each ticket's timeline.")
@pass_state
def workflows_migrate(state: State, name: str, from_version: str, to_version: str | None, mappings: tuple[str, ...], actor: str) -> None:
    """Move the open tickets of workflow NAME from one version to another, in one transaction."""
    state_map: dict[str, str] = {}
    for mapping in mappings:
        old, sep, new = mapping.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{mapping!r} is not OLD=NEW", param_hint="--map")
        state_map[old.strip()] = new.strip()
    services = state.services
    target = to_version or services.workflows.current(name).version
    with services.db.transaction() as session:
        moved = services.engine.migrate_tickets(session, name, from_version, target, state_map, actor=actor, now=utcnow())
    click.echo(f"moved {len(moved)} ticket(s) of {name} from version {from_version} to {target}")


@main.group()
def config() -> None:
    """Configuration."""


@config.command("show")
@pass_state
def config_show(state: State) -> None:
    """Print the settings in force as JSON, secrets masked."""
    shown = {key: ("***" if key in SECRET_SETTINGS and value else str(value)) for key, value in vars(state.settings).items()}
    click.echo(json.dumps(shown, indent=2, sort_keys=True))


main.add_command(license_group)
main.add_command(billing_group)
main.add_command(mail_group)
main.add_command(tickets_group)
