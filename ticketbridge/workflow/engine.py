"""The engine: fire a ticket's transitions, inside the caller's transaction.

A transition's step effects, its timeline events, its emails and the timers of the state it
enters are all written through the one session the caller commits, so they land together or
not at all. The engine never commits; `jobs.tasks`, the web views and the CLI own the
transaction. After a manual action, a customer reply or a timer, the ticket is marked due
(`next_run_at = now`) and an `advance_ticket` job is enqueued once the transaction commits (on
rq, that wakes the batch job that advances every due ticket), so the automatic transitions that
follow run with the usual retries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from sqlalchemy import select, true, update
from sqlalchemy.orm import Session

from ticketbridge.actors import SYSTEM, TIMER, Actor
from ticketbridge.db import after_commit
from ticketbridge.errors import Conflict, NotFound, ValidationError, WorkflowError
from ticketbridge.forms.validate import validate_fields, with_stored_files
from ticketbridge.licenses.calendar import CalendarInputs, instant
from ticketbridge.licenses.emails import EmailSources, template_context
from ticketbridge.steps.registry import StepContext, StepRegistry, StepResources
from ticketbridge.tickets import due
from ticketbridge.tickets.models import Ticket, WaitingOn
from ticketbridge.tickets.timeline import record
from ticketbridge.workflow.context import guard_context
from ticketbridge.workflow.definitions import (
    Action,
    FormField,
    State,
    Transition,
    TriggerKind,
    Workflow,
)
from ticketbridge.workflow.models import WorkflowTimer
from ticketbridge.workflow.wording import customer_words

MAX_AUTOMATIC_CHAIN = 50
ADMIN = "admin"


class Workflows(Protocol):
    """The workflow versions: the one in force per request type, and any version by name."""

    def refresh(self, session: Session | None = None) -> None: ...

    def current(self, name: str) -> Workflow: ...

    def get(self, name: str, version: str, session: Session | None = None) -> Workflow: ...


class Mailer(Protocol):
    """Queues an email in the caller's transaction (the outbox)."""

    def queue_email(
        self,
        session: Session,
        *,
        ticket: Ticket,
        template: str,
        now: dt.datetime,
        context: Mapping[str, Any] | None = None,
    ) -> object: ...


class Scheduler(Protocol):
    """Runs a job by name and id now or at a time; called only after the transaction commits."""

    def enqueue(self, task: str, ident: int) -> None: ...

    def schedule(self, task: str, ident: int, at: dt.datetime) -> None: ...


class NotAllowed(WorkflowError):
    """The staff member's role may not take this transition."""

    http_status = 403


def transition_email_context(
    transition: Transition, state: State, context: StepContext
) -> dict[str, Any]:
    """What a transition's emails see beside the ticket: the transition, the state entered, what
    staff filled in, and what the steps changed (before → after) or scheduled."""
    payloads = [payload for _, payload in context.notes]
    return {
        "transition": transition,
        "state": state,
        "fields": context.fields,
        "changes": [line for p in payloads for line in p.get("changes", [])],
        "scheduled": [p["scheduled"] for p in payloads if "scheduled" in p],
    }


TRANSITION_EMAIL_VARIABLES = frozenset({"transition", "state", "fields", "changes", "scheduled"})


class Engine:
    """Fires transitions with the collaborators it is given: the workflow versions, the steps and
    what they use, a mailer for the outcome emails and a scheduler for the follow-up jobs."""

    def __init__(
        self,
        *,
        workflows: Workflows,
        steps: StepRegistry,
        resources: StepResources,
        mailer: Mailer,
        scheduler: Scheduler,
    ) -> None:
        self.workflows = workflows
        self.steps = steps
        self.resources = resources
        self.mailer = mailer
        self.scheduler = scheduler

    def workflow_of(self, session: Session, ticket: Ticket) -> Workflow:
        return self.workflows.get(ticket.workflow_name, ticket.workflow_version, session)

    def start(self, session: Session, ticket: Ticket, *, now: dt.datetime, actor: Actor) -> None:
        """Put a new ticket in its workflow's initial state.

        Nothing is flushed here, so a batch of mails inserts its tickets together. When the
        initial state has automatic transitions the ticket is marked due and its advance is
        enqueued once the transaction commits; a state that waits on staff or the customer needs
        no job.
        """
        self.workflows.refresh(session)
        workflow = self.workflows.current(ticket.request_type)
        ticket.workflow_name, ticket.workflow_version = workflow.name, workflow.version
        initial = workflow.states[workflow.initial]
        ticket.state = initial.name
        ticket.waiting_on = WaitingOn(initial.waits_on.value)
        due.enter(ticket, initial, now)
        if workflow.transitions_from(initial.name, TriggerKind.AUTOMATIC):
            ticket.next_run_at = now
            scheduler = self.scheduler
            after_commit(session, lambda: scheduler.enqueue("advance_ticket", ticket.id))
        record(
            session,
            ticket,
            actor=actor,
            kind="created",
            summary=f"Request received: {workflow.title or workflow.name}",
            payload={"workflow": workflow.name, "version": workflow.version, "state": initial.name},
            now=now,
        )
        self._arm_timers(session, ticket, workflow, now)

    def advance(self, session: Session, ticket: Ticket, *, now: dt.datetime) -> list[str]:
        """Take automatic transitions while exactly one holds; returns the names taken."""
        taken: list[str] = []
        workflow = self.workflow_of(session, ticket)
        for _ in range(MAX_AUTOMATIC_CHAIN):
            if ticket.is_closed:
                break
            ready = self._ready(workflow, ticket, TriggerKind.AUTOMATIC, now)
            if not ready:
                break
            self.fire(session, ticket, ready, now=now, actor=SYSTEM)
            taken.append(ready.name)
        else:
            raise WorkflowError(
                f"more than {MAX_AUTOMATIC_CHAIN} automatic transitions in a row: the "
                "workflow loops"
            )
        return taken

    def fire_manual(
        self,
        session: Session,
        ticket: Ticket,
        transition_name: str,
        *,
        staff_role: str,
        fields: Mapping[str, Any],
        now: dt.datetime,
        actor: Actor,
    ) -> Transition:
        """A staff action: checked against the ticket's state, the role (admins may do agents'
        actions) and the fields."""
        workflow = self.workflow_of(session, ticket)
        transition = workflow.transition(transition_name)
        if transition is None or transition.trigger.kind != TriggerKind.MANUAL:
            actions = (
                ", ".join(
                    t.name for t in workflow.transitions_from(ticket.state, TriggerKind.MANUAL)
                )
                or "none"
            )
            raise NotFound(
                f"{workflow.name} has no staff action {transition_name!r}; actions in state "
                f"{ticket.state!r}: {actions}"
            )
        if transition.source != ticket.state:
            raise Conflict(
                f"“{transition.trigger.label}” applies in state {transition.source!r}; ticket "
                f"{ticket.reference} is in {ticket.state!r}"
            )
        if staff_role != ADMIN and staff_role != transition.trigger.role:
            raise NotAllowed(
                f"“{transition.trigger.label}” needs the {transition.trigger.role} role; you "
                f"are {staff_role}"
            )
        cleaned = with_stored_files(
            transition.trigger.fields, validate_fields(transition.trigger.fields, fields)
        )
        if not self._guard_holds(transition, ticket, now):
            raise Conflict(
                f"“{transition.trigger.label}” is not possible now: "
                f"{transition.guard.source if transition.guard else ''} does not hold"
            )
        self.fire(session, ticket, transition, now=now, actor=actor, fields=cleaned)
        self._schedule(session, ticket, now)
        return transition

    def customer_replied(
        self,
        session: Session,
        ticket: Ticket,
        *,
        now: dt.datetime,
        message_id: str | None = None,
        answers: Mapping[str, Any] | None = None,
    ) -> bool:
        """Take the customer-reply transition of the ticket's state, if it has one whose guard
        holds.

        `answers` are the clean, stored answers to what the state asks (`asks`), checked by the
        caller with the one validator; they join the ticket's form before the guards are read.
        A reply without them (an email) to a state whose questions need an answer moves
        nothing: it stays on the ticket, the timeline names what is still missing, and the
        ticket page keeps asking."""
        if ticket.is_closed:
            return False
        asks = self.workflow_of(session, ticket).states[ticket.state].asks
        if answers is None and asks:
            try:
                answers = validate_fields(asks, {})
            except ValidationError as exc:
                self._record_unanswered(session, ticket, asks, exc, now, message_id)
                return False
        fields: dict[str, Any] = {"message_id": message_id} if message_id else {}
        if answers is not None:
            ticket.form_data = {**ticket.form_data, **answers}
            fields["answers"] = dict(answers)
        return self._take_event(
            session,
            ticket,
            TriggerKind.CUSTOMER_REPLY,
            now=now,
            actor=Actor.customer(ticket.customer.email),
            fields=fields or None,
        )

    @staticmethod
    def _record_unanswered(
        session: Session,
        ticket: Ticket,
        asks: tuple[FormField, ...],
        missing: ValidationError,
        now: dt.datetime,
        message_id: str | None,
    ) -> None:
        labels = [f.label for f in asks if f.name in missing.errors]
        record(
            session,
            ticket,
            actor=Actor.customer(ticket.customer.email),
            kind="reply_without_answers",
            summary=f"The customer replied without answering {', '.join(labels)}; the ticket "
            "still waits on them and their ticket page still asks",
            payload={"missing": sorted(missing.errors), "message_id": message_id},
            now=now,
        )

    def license_synced(
        self, session: Session, ticket: Ticket, *, revision: int, now: dt.datetime
    ) -> bool:
        """The customer's server fetched the license this ticket changed: take the state's
        `license_synced` transition, if it has one whose guard holds."""
        return self._take_event(
            session,
            ticket,
            TriggerKind.LICENSE_SYNCED,
            now=now,
            actor=SYSTEM,
            fields={"revision": revision},
        )

    def _take_event(
        self,
        session: Session,
        ticket: Ticket,
        kind: TriggerKind,
        *,
        now: dt.datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None,
    ) -> bool:
        if ticket.is_closed:
            return False
        transition = self._ready(self.workflow_of(session, ticket), ticket, kind, now)
        if transition is None:
            return False
        self.fire(session, ticket, transition, now=now, actor=actor, fields=fields)
        self._schedule(session, ticket, now)
        return True

    def fire_timer(
        self, session: Session, ticket: Ticket, timer: WorkflowTimer, *, now: dt.datetime
    ) -> bool:
        """Take a claimed, due timer's transition; a timer outliving its state, or whose guard
        fails, is spent. A closed ticket's timers are its follow-ups (a demo's expiry after the
        demo request was completed): they move it between final states.

        Timers due together with exclusive guards (expire the trial, or close a converted one)
        decide between them: the one whose guard fails is spent without a timeline line."""
        workflow = self.workflow_of(session, ticket)
        transition = workflow.transition(timer.transition)
        if transition is None or transition.source != ticket.state:
            return False
        if not self._guard_holds(transition, ticket, now):
            if self._another_timer_decides(session, workflow, ticket, timer, now):
                return False
            record(
                session,
                ticket,
                actor=TIMER,
                kind="timer_skipped",
                summary=f"Timer {transition.name} was due; its guard "
                f"{transition.guard.source if transition.guard else ''} does not hold",
                payload={"transition": transition.name, "due_at": timer.due_at.isoformat()},
                now=now,
            )
            return False
        self.fire(
            session,
            ticket,
            transition,
            now=now,
            actor=TIMER,
            fields={"due_at": timer.due_at.isoformat()},
        )
        self._schedule(session, ticket, now)
        return True

    def _another_timer_decides(
        self,
        session: Session,
        workflow: Workflow,
        ticket: Ticket,
        timer: WorkflowTimer,
        now: dt.datetime,
    ) -> bool:
        due_together = session.scalars(
            select(WorkflowTimer.transition).where(
                WorkflowTimer.ticket_id == ticket.id,
                WorkflowTimer.id != timer.id,
                WorkflowTimer.state == ticket.state,
                WorkflowTimer.due_at == timer.due_at,
                WorkflowTimer.fired_at.is_(None),
                WorkflowTimer.cancelled_at.is_(None),
            )
        )
        others = [workflow.transition(name) for name in due_together]
        return any(t is not None and self._guard_holds(t, ticket, now) for t in others)

    def fire(
        self,
        session: Session,
        ticket: Ticket,
        transition: Transition,
        *,
        now: dt.datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        workflow = self.workflow_of(session, ticket)
        if transition.source != ticket.state:
            raise WorkflowError(
                f"transition {transition.name!r} starts from {transition.source!r}, but the "
                f"ticket is in {ticket.state!r}"
            )
        source = ticket.state
        context = StepContext(
            session=session,
            ticket=ticket,
            now=now,
            actor=actor,
            resources=self.resources,
            fields=dict(fields or {}),
        )
        self._run_actions(transition.actions, context)
        target = workflow.states[transition.target]
        self._enter(ticket, target, now)
        if target.is_final:
            # A fixed reason in the workflow, else the one staff wrote when refusing; customers
            # read it without rule citations (staff keep them in the timeline).
            ticket.outcome_reason = (
                customer_words(transition.reason or str(context.fields.get("reason") or "")) or None
            )
        self._run_actions(target.actions, context)
        record(
            session,
            ticket,
            actor=actor,
            kind="transition",
            summary=f"{source} → {target.name}"
            + (f": {transition.reason}" if transition.reason else ""),
            payload={
                "transition": transition.name,
                "trigger": transition.trigger.kind.value,
                "from": source,
                "to": target.name,
                "reason": transition.reason,
                "fields": dict(fields or {}),
                "notes": [{"summary": s, **p} for s, p in context.notes],
            },
            now=now,
        )
        self._cancel_timers(session, ticket, now)
        self._arm_timers(session, ticket, workflow, now)
        sources = EmailSources(self.resources.catalogue, self.resources.secret_key, workflow.form)
        asked = tuple(p["email"] for _, p in context.notes if "email" in p)
        for template in (*transition.emails, *target.emails, *asked):
            self.mailer.queue_email(
                session,
                ticket=ticket,
                template=template,
                now=now,
                context=transition_email_context(transition, target, context)
                | template_context(template, sources, ticket),
            )

    def migrate_tickets(
        self,
        session: Session,
        name: str,
        from_version: str,
        to_version: str,
        state_map: Mapping[str, str],
        *,
        actor: Actor,
        now: dt.datetime,
        ticket_ids: Collection[int] | None = None,
    ) -> list[int]:
        """Move every open ticket of `name` from one version to another, by an explicit state map.

        Checked before anything changes: every state in use is mapped and every target exists in
        the new version. Each ticket gets a timeline event, its timers are re-armed for its new
        state and it is marked due; all in the caller's one transaction. Returns the ticket ids.
        `ticket_ids` limits the move to those tickets (a batch of a long migration); a ticket
        already moved is no longer on the old version, so a batch run twice moves nothing twice.
        """
        if from_version == to_version:
            raise WorkflowError(
                f"cannot migrate {name}: --from and --to are both version {from_version}; name "
                "the version the tickets run on now and a different one to move them to"
            )
        old, new = (
            self.workflows.get(name, from_version, session),
            self.workflows.get(name, to_version, session),
        )
        tickets = list(
            session.scalars(
                select(Ticket)
                .where(
                    Ticket.workflow_name == name,
                    Ticket.workflow_version == old.version,
                    Ticket.outcome.is_(None),
                    Ticket.id.in_(ticket_ids) if ticket_ids is not None else true(),
                )
                .order_by(Ticket.id)
                .with_for_update()
            )
        )
        problems = [
            f"state {s!r} is in use by {sum(t.state == s for t in tickets)} ticket(s) and is "
            f"not mapped; add --map {s}=<state of the new version>"
            for s in sorted({t.state for t in tickets} - set(state_map))
        ]
        problems += [
            f"{s!r} is not a state of version {old.version}"
            for s in sorted(set(state_map) - set(old.states))
        ]
        problems += [
            f"{s}={t}: {t!r} is not a state of version {new.version} (states: "
            f"{', '.join(new.states)})"
            for s, t in sorted(state_map.items())
            if t not in new.states
        ]
        if problems:
            raise WorkflowError(
                f"cannot migrate {name} {old.version} → {new.version}: " + "; ".join(problems)
            )
        for ticket in tickets:
            source = ticket.state
            ticket.workflow_version = new.version
            self._cancel_timers(session, ticket, now)
            self._enter(ticket, new.states[state_map[source]], now)
            self._arm_timers(session, ticket, new, now)
            record(
                session,
                ticket,
                actor=actor,
                kind="workflow_migrated",
                summary=f"Moved to workflow version {new.version}: {source} → {ticket.state}",
                payload={
                    "from_version": old.version,
                    "to_version": new.version,
                    "from": source,
                    "to": ticket.state,
                },
                now=now,
            )
            self._schedule(session, ticket, now)
        return [t.id for t in tickets]

    def reopen_on_reply(
        self, session: Session, ticket: Ticket, *, now: dt.datetime, message_id: str | None = None
    ) -> bool:
        """A customer answered a closed ticket: reopen it where its workflow says, if it says so.

        Returns False when the workflow has no `reopen_on_reply`: the caller then opens a new
        ticket linked to this one."""
        workflow = self.workflow_of(session, ticket)
        if not ticket.is_closed or workflow.reopen_on_reply is None:
            return False
        closed_as, state = ticket.outcome, workflow.states[workflow.reopen_on_reply]
        ticket.outcome, ticket.outcome_reason, ticket.closed_at = None, None, None
        self._enter(ticket, state, now)
        record(
            session,
            ticket,
            actor=Actor.customer(ticket.customer.email),
            kind="reopened",
            summary=f"Reopened by the customer's reply (was {closed_as}); now {state.name}",
            payload={"to": state.name, "was": closed_as, "message_id": message_id},
            now=now,
        )
        self._arm_timers(session, ticket, workflow, now)
        self._schedule(session, ticket, now)
        return True

    def _ready(
        self, workflow: Workflow, ticket: Ticket, kind: TriggerKind, now: dt.datetime
    ) -> Transition | None:
        candidates = workflow.transitions_from(ticket.state, kind)
        context = guard_context(ticket, now) if any(t.guard for t in candidates) else {}
        ready = [t for t in candidates if t.guard is None or t.guard.holds(context)]
        if len(ready) > 1:
            names = ", ".join(t.name for t in ready)
            raise WorkflowError(
                f"state {ticket.state!r}: transitions {names} can all fire; their guards must "
                "exclude each other"
            )
        return ready[0] if ready else None

    def _schedule(self, session: Session, ticket: Ticket, now: dt.datetime) -> None:
        """Mark the ticket due and enqueue its advance once this transaction commits."""
        ticket.next_run_at, ticket.failures, ticket.last_error = now, 0, None
        session.flush()
        ticket_id, scheduler = ticket.id, self.scheduler
        after_commit(session, lambda: scheduler.enqueue("advance_ticket", ticket_id))

    def _arm_timers(
        self, session: Session, ticket: Ticket, workflow: Workflow, now: dt.datetime
    ) -> None:
        """One row per (ticket, transition, due time): re-entering a state whose timer is an instant
        (`at:`) revives the cancelled row; an instant that already fired does not fire again."""
        timers = workflow.transitions_from(ticket.state, TriggerKind.TIMER)
        if not timers:
            return
        if ticket.id is None:
            session.flush()
        context = guard_context(ticket, now)
        wanted = list(
            dict.fromkeys((t.name, self._due_at(t, ticket, context, now)) for t in timers)
        )
        existing = {
            (timer.transition, timer.due_at): timer
            for timer in session.scalars(
                select(WorkflowTimer).where(
                    WorkflowTimer.ticket_id == ticket.id,
                    WorkflowTimer.transition.in_([name for name, _ in wanted]),
                )
            )
        }
        armed = []
        for name, due_at in wanted:
            timer = existing.get((name, due_at))
            if timer is None:
                armed.append(
                    WorkflowTimer(
                        ticket_id=ticket.id,
                        transition=name,
                        state=ticket.state,
                        due_at=due_at,
                        created_at=now,
                    )
                )
            elif timer.fired_at is None:
                timer.cancelled_at = None
        session.add_all(armed)
        session.flush()
        for timer in armed:
            self._schedule_timer(session, timer.id, timer.due_at, now)

    def _due_at(
        self, transition: Transition, ticket: Ticket, context: Mapping[str, Any], now: dt.datetime
    ) -> dt.datetime:
        trigger = transition.trigger
        if trigger.after is not None:
            return now + trigger.after
        if trigger.calendar is not None:
            inputs = CalendarInputs(now, ticket.license, self.resources.catalogue)
            return instant(trigger.calendar.instant, inputs) + trigger.calendar.offset
        return trigger.at.instant(context) if trigger.at else now

    def _schedule_timer(
        self, session: Session, timer_id: int, due_at: dt.datetime, now: dt.datetime
    ) -> None:
        """Ask the job queue to fire the timer on time (at once after commit when it is already
        due: R11's decrease by the 20th); the sweeper fires it anyway if that is lost."""
        scheduler = self.scheduler
        if due_at <= now:
            after_commit(session, lambda: scheduler.enqueue("fire_timer", timer_id))
        else:
            after_commit(session, lambda: scheduler.schedule("fire_timer", timer_id, due_at))

    @staticmethod
    def _cancel_timers(session: Session, ticket: Ticket, now: dt.datetime) -> None:
        """Without flushing first: the statement reads timers only, which are flushed as they
        are armed (timers loaded in the session are updated with it), so the ticket's row and
        timeline lines of a chain of transitions go to the database together at commit
        instead of once per transition."""
        with session.no_autoflush:
            session.execute(
                update(WorkflowTimer)
                .where(
                    WorkflowTimer.ticket_id == ticket.id,
                    WorkflowTimer.fired_at.is_(None),
                    WorkflowTimer.cancelled_at.is_(None),
                )
                .values(cancelled_at=now)
                .execution_options(synchronize_session="evaluate")
            )

    def _run_actions(self, actions: tuple[Action, ...], context: StepContext) -> None:
        for action in actions:
            self.steps.run(action.step, context, action.params)

    @staticmethod
    def _enter(ticket: Ticket, state: State, now: dt.datetime) -> None:
        ticket.state = state.name
        ticket.updated_at = now
        due.enter(ticket, state, now)
        if state.is_final:
            ticket.outcome = state.outcome.value if state.outcome else None
            ticket.closed_at = now
            ticket.waiting_on = WaitingOn.NOBODY
        else:
            ticket.waiting_on = WaitingOn(state.waits_on.value)

    def _guard_holds(self, transition: Transition, ticket: Ticket, now: dt.datetime) -> bool:
        return transition.guard is None or transition.guard.holds(guard_context(ticket, now))
