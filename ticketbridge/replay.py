"""Replay closed tickets against a draft workflow before it is published.

Each ticket's recorded inputs — its form, the staff actions with their fields, the customer's
replies and the timers that fired, in order — are played twice in throwaway databases (the
`workflows simulate` machinery): once on the version in force and once on the draft. Comparing
the two runs, rather than a run against the recorded outcome, cancels out whatever the throwaway
world lacks (a license's earlier history), so a difference is the draft's doing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ticketbridge import migrate
from ticketbridge.errors import TicketbridgeError
from ticketbridge.outbox.senders import FolderSender
from ticketbridge.runtime import Runtime, build_runtime
from ticketbridge.simulation import SimulatedEvent, Simulation
from ticketbridge.tickets.models import Ticket

DEFAULT_COUNT = 20
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RecordedTicket:
    reference: str
    form: dict[str, object]
    events: tuple[SimulatedEvent, ...]
    ended: str


@dataclass(frozen=True)
class ReplayResult:
    reference: str
    recorded: str
    in_force: str
    draft: str

    @property
    def differs(self) -> bool:
        return self.in_force != self.draft


def _end(ticket: Ticket) -> str:
    return f"{ticket.state} ({ticket.outcome})" if ticket.outcome else ticket.state


def recorded_inputs(ticket: Ticket) -> RecordedTicket:
    events = []
    for event in ticket.events:
        trigger = event.payload.get("trigger") if event.kind == "transition" else None
        if trigger == "manual":
            events.append(
                SimulatedEvent("manual", event.payload["transition"], event.payload["fields"])
            )
        elif trigger == "customer_reply":
            # The answers to what the state asked (`asks`), as the page recorded them.
            events.append(
                SimulatedEvent("reply", fields=event.payload["fields"].get("answers", {}))
            )
        elif trigger == "timer":
            events.append(SimulatedEvent("timer", event.payload["transition"]))
    form = dict(ticket.form_data)
    if ticket.license is not None:
        form.setdefault("token", ticket.license.token)
    form.setdefault("customer_email", ticket.customer.email)
    form.setdefault("customer_name", ticket.customer.name)
    form.setdefault("accept_conditions", True)
    return RecordedTicket(ticket.reference, form, tuple(events), _end(ticket))


def last_closed(runtime: Runtime, name: str, count: int) -> list[RecordedTicket]:
    with runtime.db.transaction() as session:
        tickets = session.scalars(
            select(Ticket)
            .where(Ticket.workflow_name == name, Ticket.outcome.is_not(None))
            .order_by(Ticket.closed_at.desc(), Ticket.id.desc())
            .limit(count)
            .options(
                selectinload(Ticket.events),
                selectinload(Ticket.customer),
                selectinload(Ticket.license),
            )
        ).all()
        return [recorded_inputs(ticket) for ticket in reversed(tickets)]


@contextmanager
def _world(runtime: Runtime, name: str, source: str | None) -> Iterator[Runtime]:
    """Throwaway runtime: a fresh SQLite database, no Redis, no SMTP, the workflows in force
    with `name` replaced by `source` when given."""
    with tempfile.TemporaryDirectory(prefix="ticketbridge-replay-") as folder:
        root = Path(folder)
        workflows = root / "workflows"
        shutil.copytree(runtime.settings.workflows_path, workflows)
        if source is not None:
            (workflows / f"{name}.yaml").write_text(source, encoding="utf-8")
        url = f"sqlite:///{root / 'replay.sqlite3'}"
        migrate.upgrade(url)
        settings = runtime.settings.replace(
            instance_path=root / "instance",
            database_url=url,
            redis_url="",
            smtp_host="",
            workflows_path=workflows,
        )
        world = build_runtime(settings, sender=FolderSender(root / "mail"))
        try:
            yield world
        finally:
            world.close()


def _play(world: Runtime, name: str, recorded: RecordedTicket) -> str:
    simulation = Simulation(world, echo=lambda _line: None)
    try:
        simulation.submit(name, recorded.form)
    except TicketbridgeError as exc:
        return f"refused at intake: {exc.message}"
    for event in recorded.events:
        simulation.play(event)
    with world.db.transaction() as session:
        return _end(session.get_one(Ticket, simulation.ticket_id))


def replay(
    runtime: Runtime,
    name: str,
    draft: str,
    tickets: Sequence[RecordedTicket],
    progress: Progress | None = None,
) -> list[ReplayResult]:
    """Every ticket's end on the version in force and on the draft; `progress(done, total)`
    is told after each run."""
    total, done = len(tickets) * 2, 0
    ends: list[list[str]] = []
    for source in (None, draft):
        with _world(runtime, name, source) as world:
            ends.append([])
            for recorded in tickets:
                ends[-1].append(_play(world, name, recorded))
                done += 1
                if progress is not None:
                    progress(done, total)
    return [
        ReplayResult(recorded.reference, recorded.ended, before, after)
        for recorded, before, after in zip(tickets, ends[0], ends[1], strict=True)
    ]


def replay_last_closed(
    runtime: Runtime, name: str, draft: str, progress: Progress
) -> list[ReplayResult]:
    """The admin page's replay (run in the background, its progress on the run's row): the
    last DEFAULT_COUNT closed tickets of `name`."""
    return replay(runtime, name, draft, last_closed(runtime, name, DEFAULT_COUNT), progress)
