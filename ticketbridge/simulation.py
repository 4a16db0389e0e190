"""Walk one ticket through a workflow in a throwaway database and say what would happen.

Everything real is replaced: a SQLite file in a temporary folder, in-process jobs, mail kept
as files in that folder, all deleted at the end. The workflows, templates, steps and catalogue
are the configured ones, so the run shows exactly what production would do with this form.
The clock is virtual: a timer event moves it to the timer's due time.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ticketbridge import migrate
from ticketbridge.actors import Actor, ActorKind
from ticketbridge.clock import utcnow
from ticketbridge.config import Settings
from ticketbridge.errors import NotFound, TicketbridgeError, WorkflowError
from ticketbridge.outbox.senders import FolderSender
from ticketbridge.runtime import Runtime, build_runtime
from ticketbridge.tickets.models import Ticket, TicketEvent
from ticketbridge.workflow.models import WorkflowTimer

EVENT_KINDS = ("manual", "reply", "timer")


@dataclass(frozen=True)
class SimulatedEvent:
    kind: str
    name: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> SimulatedEvent:
        """`reply`, `timer:NAME`, `manual:NAME` or `manual:NAME:{"field": "value"}`."""
        kind, _, rest = text.partition(":")
        name, _, data = rest.partition(":")
        if kind not in EVENT_KINDS or (kind == "reply") == bool(name):
            raise WorkflowError(
                f"event {text!r}: write reply, timer:NAME, manual:NAME or "
                f'manual:NAME:{{"field": "value"}}'
            )
        fields = json_object(data, f"event {text!r}: the fields") if data else {}
        return cls(kind, name, fields)


def json_object(text: str | bytes, what: str) -> dict[str, Any]:
    """`text` as a JSON object (a form, a staff action's fields); anything else is refused with
    one line naming `what` and what would be accepted."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkflowError(
            f"{what}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise WorkflowError(f"{what}: not JSON (not UTF-8 text)") from None
    if not isinstance(value, dict):
        raise WorkflowError(
            f"{what}: a JSON {_json_kind(value)}, not an object; write one object of field "
            'names and values, e.g. {"customer_name": "Acme"}'
        )
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    kinds: dict[type, str] = {list: "array", str: "string"}
    return kinds.get(type(value), "null")


SIMULATED_STAFF = Actor.staff("simulated staff")


def _who(actor: Actor) -> str:
    """Staff by their name; customers, the system and timers as stored."""
    return actor.id if actor.kind is ActorKind.STAFF else str(actor)


class Simulation:
    def __init__(self, runtime: Runtime, echo: Callable[[str], None]) -> None:
        self.runtime = runtime
        self.echo = echo
        self.now = utcnow()
        self.shown = 0
        self.ticket_id = 0

    def submit(self, name: str, form: Mapping[str, Any]) -> None:
        with self.runtime.db.transaction() as session:
            self.ticket_id = self.runtime.intake.submit_request(session, name, form, now=self.now)
        self.report()

    def play(self, event: SimulatedEvent) -> None:
        self.echo(f"-- event {event.kind}{':' + event.name if event.name else ''}")
        try:
            self._apply(event)
        except TicketbridgeError as exc:
            self.echo(f"   refused: {exc.message}")
        self.runtime.tasks.advance_ticket(self.ticket_id, now=self.now)
        self.report()

    def _apply(self, event: SimulatedEvent) -> None:
        engine = self.runtime.engine
        if event.kind == "timer":
            timer_id, due_at = self._pending_timer(event.name)
            self.now = max(self.now, due_at)
            self.runtime.tasks.fire_timer(timer_id, now=self.now)
            return
        with self.runtime.db.transaction() as session:
            ticket = session.get_one(Ticket, self.ticket_id)
            if event.kind == "manual":
                engine.fire_manual(
                    session,
                    ticket,
                    event.name,
                    staff_role="admin",
                    fields=event.fields,
                    now=self.now,
                    actor=SIMULATED_STAFF,
                )
            elif not engine.customer_replied(
                session, ticket, now=self.now, answers=dict(event.fields) or None
            ):
                self.echo(
                    f"   no customer-reply transition from {ticket.state!r}: the reply only "
                    "joins the ticket"
                )

    def _pending_timer(self, name: str) -> tuple[int, dt.datetime]:
        with self.runtime.db.transaction() as session:
            timer = session.scalars(
                select(WorkflowTimer).where(
                    WorkflowTimer.ticket_id == self.ticket_id,
                    WorkflowTimer.transition == name,
                    WorkflowTimer.fired_at.is_(None),
                    WorkflowTimer.cancelled_at.is_(None),
                )
            ).first()
            if timer is None:
                raise NotFound(f"no pending timer {name!r} on the ticket")
            return timer.id, timer.due_at

    def report(self) -> None:
        with self.runtime.db.transaction() as session:
            ticket = session.get_one(Ticket, self.ticket_id)
            for event in session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == self.ticket_id, TicketEvent.id > self.shown)
                .order_by(TicketEvent.id)
            ):
                self._show(event)
                self.shown = event.id
            timers = session.scalars(
                select(WorkflowTimer).where(
                    WorkflowTimer.ticket_id == self.ticket_id,
                    WorkflowTimer.fired_at.is_(None),
                    WorkflowTimer.cancelled_at.is_(None),
                )
            )
            self.echo(
                f"   state: {ticket.state} (waiting on {ticket.waiting_on}"
                f"{', outcome ' + ticket.outcome if ticket.outcome else ''})"
            )
            for timer in timers:
                self.echo(
                    f"   timer armed: {timer.transition} due {timer.due_at:%Y-%m-%d %H:%M} UTC"
                )

    def _show(self, event: TicketEvent) -> None:
        payload = event.payload
        if event.kind == "transition":
            self.echo(
                f"   transition {payload['transition']} ({payload['trigger']}, by "
                f"{_who(event.actor)}): {payload['from']} → {payload['to']}"
            )
            for name, value in payload["fields"].items():
                self.echo(f"      field {name}: {value}")
            for note in payload["notes"]:
                self.echo(f"      action: {note['summary']}")
        elif event.kind == "email_queued":
            self.echo(f"   email ({payload['template']}): {event.summary}")
        elif event.kind != "email_sent":
            self.echo(f"   {event.kind}: {event.summary}")


def simulate(
    settings: Settings,
    name: str,
    form: Mapping[str, Any],
    events: list[SimulatedEvent],
    echo: Callable[[str], None],
) -> None:
    with tempfile.TemporaryDirectory(prefix="ticketbridge-simulate-") as folder:
        url = f"sqlite:///{Path(folder) / 'simulate.sqlite3'}"
        migrate.upgrade(url)
        throwaway = settings.replace(
            instance_path=Path(folder), database_url=url, redis_url="", smtp_host=""
        )
        runtime = build_runtime(throwaway, sender=FolderSender(Path(folder) / "mail"))
        try:
            simulation = Simulation(runtime, echo)
            echo(
                f"simulating {name} version {runtime.workflows.current(name).version} in a "
                "throwaway database; no mail leaves it"
            )
            simulation.submit(name, form)
            for event in events:
                simulation.play(event)
        finally:
            runtime.close()
