"""The engine: fire a ticket's transitions, inside the caller's transaction.

A transition's step effects, its timeline events and its emails are all written through the
one session the caller commits, so they land together or not at all. The engine never commits;
`jobs.tasks` owns the transaction and the retry policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ticketbridge.errors import WorkflowError
from ticketbridge.outbox.service import queue_email
from ticketbridge.steps.registry import StepContext
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.definitions import Action, State, Transition, TriggerKind, Workflow

if TYPE_CHECKING:
    from ticketbridge.services import Services

MAX_AUTOMATIC_CHAIN = 50


class Engine:
    def __init__(self, services: Services) -> None:
        self.services = services

    def workflow_of(self, ticket: Ticket) -> Workflow:
        return self.services.workflows.get(ticket.workflow_name, ticket.workflow_version)

    def start(self, session: Session, ticket: Ticket, *, now: dt.datetime, actor: str) -> None:
        """Put a new ticket in its workflow's initial state (its automatic steps run in a job)."""
        workflow = self.services.workflows.current(ticket.request_type)
        ticket.workflow_name, ticket.workflow_version = workflow.name, workflow.version
        initial = workflow.states[workflow.initial]
        ticket.state = initial.name
        ticket.waiting_on = WaitingOn(initial.waits_on.value)
        record(session, ticket, actor=actor, kind="created", summary=f"Request received: {workflow.title or workflow.name}", payload={"workflow": workflow.name, "version": workflow.version, "state": initial.name}, now=now)

    def advance(self, session: Session, ticket: Ticket, *, now: dt.datetime) -> list[str]:
        """Take automatic transitions while exactly one holds; returns the names taken."""
        taken: list[str] = []
        workflow = self.workflow_of(ticket)
        for _ in range(MAX_AUTOMATIC_CHAIN):
            if ticket.is_closed:
                break
            ready = [t for t in workflow.transitions_from(ticket.state, TriggerKind.AUTOMATIC) if self._guard_holds(t, ticket, now)]
            if not ready:
                break
            if len(ready) > 1:
                names = ", ".join(t.name for t in ready)
                raise WorkflowError(f"state {ticket.state!r}: transitions {names} can all fire; their guards must exclude each other")
            self.fire(session, ticket, ready[0], now=now, actor="system")
            taken.append(ready[0].name)
        else:
            raise WorkflowError(f"more than {MAX_AUTOMATIC_CHAIN} automatic transitions in a row: the workflow loops")
        return taken

    def fire(
        self, session: Session, ticket: Ticket, transition: Transition, *, now: dt.datetime, actor: str, fields: Mapping[str, Any] | None = None
    ) -> None:
        workflow = self.workflow_of(ticket)
        if transition.source != ticket.state:
            raise WorkflowError(f"transition {transition.name!r} starts from {transition.source!r}, but the ticket is in {ticket.state!r}")
        source = ticket.state
        context = StepContext(session=session, ticket=ticket, now=now, actor=actor, services=self.services)
        self._run_actions(transition.actions, context)
        target = workflow.states[transition.target]
        self._enter(ticket, target, now)
        if target.is_final:
            ticket.outcome_reason = transition.reason or None
        record(
            session,
            ticket,
            actor=actor,
            kind="transition",
            summary=f"{source} → {target.name}" + (f": {transition.reason}" if transition.reason else ""),
            payload={"transition": transition.name, "from": source, "to": target.name, "reason": transition.reason, "fields": dict(fields or {}), "notes": [{"summary": s, **p} for s, p in context.notes]},
            now=now,
        )
        enter_context = StepContext(session=session, ticket=ticket, now=now, actor=actor, services=self.services)
        self._run_actions(target.actions, enter_context)
        for template in (*transition.emails, *target.emails):
            queue_email(session, self.services, ticket=ticket, template=template, now=now, context={"transition": transition, "state": target})

    def _run_actions(self, actions: tuple[Action, ...], context: StepContext) -> None:
        for action in actions:
            self.services.steps.run(action.step, context, action.params)

    @staticmethod
    def _enter(ticket: Ticket, state: State, now: dt.datetime) -> None:
        ticket.state = state.name
        ticket.updated_at = now
        if state.is_final:
            ticket.outcome = state.outcome.value if state.outcome else None
            ticket.closed_at = now
            ticket.waiting_on = WaitingOn.NOBODY
        else:
            ticket.waiting_on = WaitingOn(state.waits_on.value)

    def _guard_holds(self, transition: Transition, ticket: Ticket, now: dt.datetime) -> bool:
        return transition.guard is None or transition.guard.holds(guard_context(ticket, now))


def guard_context(ticket: Ticket, now: dt.datetime) -> dict[str, Any]:
    """The variables a guard sees: plain values only, so CEL never reaches into Python objects."""
    license = ticket.license
    return {
        "form": ticket.form_data,
        "license": {
            "exists": license is not None,
            "state": license.state.value if license else "not_active",
            "had_demo": bool(license and license.had_demo),
            "plan": (license.plan if license else None) or "",
            "entitlements": dict(license.entitlements) if license else {},
        },
        "ticket": {"reference": ticket.reference, "request_type": ticket.request_type, "state": ticket.state, "created_at": ticket.created_at},
        "now": now,
    }
