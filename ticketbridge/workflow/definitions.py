"""The workflow language as typed, immutable values: what a loaded YAML file means.

The loader builds these; the engine, the checker, the form builder and the JSON Schema all read
them, so there is one description of the language. Every element keeps the position it came
from, so any later complaint can still point at file:line:column.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ticketbridge.forms.fields import FieldType as FieldType
from ticketbridge.forms.fields import FormField as FormField
from ticketbridge.forms.fields import FormSpec as FormSpec
from ticketbridge.position import Position as Position
from ticketbridge.workflow.guards import Guard


class Outcome(enum.StrEnum):
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class WaitsOn(enum.StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"
    SYSTEM = "system"


@dataclass(frozen=True)
class Action:
    """A registered step to run, with its parameters already validated against the step's schema."""

    step: str
    params: Mapping[str, Any]
    position: Position


class TriggerKind(enum.StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"
    CUSTOMER_REPLY = "customer_reply"
    TIMER = "timer"
    LICENSE_SYNCED = "license_synced"


@dataclass(frozen=True)
class CalendarAt:
    """A timer on the billing calendar: a named instant (licenses.calendar) plus an offset."""

    instant: str
    offset: dt.timedelta = dt.timedelta(0)

    @property
    def source(self) -> str:
        if not self.offset:
            return self.instant
        sign = "-" if self.offset < dt.timedelta(0) else "+"
        return f"{self.instant} {sign} {abs(self.offset).days}d"


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    label: str = ""
    role: str = "agent"
    fields: tuple[FormField, ...] = ()
    after: dt.timedelta | None = None
    at: Guard | None = None
    calendar: CalendarAt | None = None


@dataclass(frozen=True)
class Transition:
    name: str
    source: str
    target: str
    trigger: Trigger
    position: Position
    guard: Guard | None = None
    actions: tuple[Action, ...] = ()
    emails: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class State:
    name: str
    position: Position
    waits_on: WaitsOn = WaitsOn.SYSTEM
    outcome: Outcome | None = None
    target_time: dt.timedelta | None = None
    description: str = ""
    emails: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    asks: tuple[FormField, ...] = ()
    """What a state that waits on the customer asks of them (a log file, a confirmation): the
    ticket page shows these fields, the one validator checks the answers, and they join the
    ticket's form (`form.X` in guards and templates) when the customer-reply trigger fires."""

    @property
    def is_final(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True)
class Workflow:
    name: str
    title: str
    version: str
    source: str
    path: str
    initial: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    form: FormSpec = field(default_factory=FormSpec)
    reopen_on_reply: str | None = None
    """The state a customer's reply to a closed ticket reopens it in; None: the reply opens a new,
    linked general request instead."""

    def transitions_from(self, state: str, kind: TriggerKind | None = None) -> list[Transition]:
        return [
            t
            for t in self.transitions
            if t.source == state and (kind is None or t.trigger.kind == kind)
        ]

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def all_actions(self) -> tuple[Action, ...]:
        """Every step the workflow can run: on its transitions and on entering its states (the
        checks that resolve steps' emails and catalogue reads need both)."""
        return (
            *(a for t in self.transitions for a in t.actions),
            *(a for s in self.states.values() for a in s.actions),
        )
