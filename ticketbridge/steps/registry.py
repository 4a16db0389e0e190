"""Registered steps: the Python side of a workflow's `actions`.

Each step declares its name, a description for admins and a marshmallow schema for its
parameters; the workflow loader validates parameters against that schema, so a typo in YAML is
a load error with a line number, never a failure in a customer's ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow
from sqlalchemy.orm import Session

from ticketbridge.actors import Actor
from ticketbridge.errors import WorkflowError
from ticketbridge.licenses.catalogue import Catalogue
from ticketbridge.licenses.keys import KeyRing
from ticketbridge.licenses.models import License
from ticketbridge.tickets.models import Ticket


@dataclass(frozen=True)
class StepResources:
    """What steps use beyond the ticket, the same for every step a process runs; the runtime
    builds it, so steps never reach for the whole process."""

    catalogue: Catalogue
    keyring: KeyRing
    secret_key: str = field(repr=False)


@dataclass
class StepContext:
    """What a step may touch: the open session (flush, never commit), the ticket and its license,
    and the process's step resources."""

    session: Session
    ticket: Ticket
    now: dt.datetime
    actor: Actor
    resources: StepResources
    fields: dict[str, Any] = field(default_factory=dict)
    """What staff filled in for the transition (manual triggers), already validated."""
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def license(self) -> License:
        if self.ticket.license is None:
            raise WorkflowError(f"ticket {self.ticket.reference} has no license token")
        return self.ticket.license

    def note(self, summary: str, **payload: Any) -> None:
        """Add a line to the timeline entry of this step, in the same transaction."""
        self.notes.append((summary, payload))


StepFunction = Callable[..., None]


class NoParams(marshmallow.Schema):
    pass


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    params: type[marshmallow.Schema]
    run: StepFunction


class StepRegistry:
    def __init__(self) -> None:
        self._steps: dict[str, Step] = {}

    def register(
        self, name: str, *, params: type[marshmallow.Schema] = NoParams
    ) -> Callable[[StepFunction], StepFunction]:
        def decorate(function: StepFunction) -> StepFunction:
            if name in self._steps:
                raise ValueError(f"step {name!r} is registered twice")
            self._steps[name] = Step(name, (function.__doc__ or "").strip(), params, function)
            return function

        return decorate

    def names(self) -> Iterable[str]:
        return self._steps.keys()

    def get(self, name: str) -> Step:
        return self._steps[name]

    def validate_params(self, step: str, params: Mapping[str, Any]) -> dict[str, list[str]]:
        errors = self._steps[step].params().validate(dict(params))
        return {
            key: value if isinstance(value, list) else [str(value)] for key, value in errors.items()
        }

    def run(self, step: str, context: StepContext, params: Mapping[str, Any]) -> None:
        definition = self._steps[step]
        definition.run(context, **definition.params().load(dict(params)))


registry = StepRegistry()
