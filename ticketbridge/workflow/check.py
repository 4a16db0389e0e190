"""Checks over a whole parsed workflow: its graph and the form keys its expressions read.

The loader checks each element on its own; these need all of them at once:

- every state is reachable from the initial state;
- every non-final state has a way out, and some final state can still be reached from it;
- no two automatic transitions of one state can fire at once. Whether two CEL guards exclude
  each other is undecidable in general (it would take a solver over the form's values), so we
  flag what is certainly ambiguous: an unguarded automatic transition beside any other
  automatic one, and two guards with the same text (ignoring spaces). The engine still refuses,
  at run time, to choose between two guards that both hold;
- every `form.X` a guard or a timer's `at` reads is a field of the request type's form (R1's
  common fields included), and a field's `when` reads only fields above it in its own list (the
  request form, a staff action's fields, or what a state asks the customer), since the
  validator reads answers in page order;
- what a state asks the customer (`asks`) can be answered: the state has a customer-reply
  transition, and each asked field is new or has the type of the form field of that name (its
  answer replaces the form's: a log file sent later is `form.log_file`), never one of R1's
  common fields, and one name has one type across the states that ask it;
- every expression is type-correct on a sample ticket whose form holds a value of each field's
  type: CEL compiles without types, so `form.agents + "x"` would otherwise fail only on a
  customer's ticket. The sample runs one path through `&&`, `||` and `?:`, so a type error in a
  branch CEL does not evaluate still shows at run time (as a step failure staff can see).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from typing import Any

from ticketbridge.forms.common import COMMON_FIELD_NAMES, all_fields
from ticketbridge.tickets.models import Ticket
from ticketbridge.timebox import run_within
from ticketbridge.workflow.context import guard_context
from ticketbridge.workflow.definitions import (
    FieldType,
    FormField,
    Transition,
    TriggerKind,
    Workflow,
)
from ticketbridge.workflow.guards import Guard, GuardEvaluationError, excerpt
from ticketbridge.workflow.problems import Problem

# A guard's sample evaluation takes microseconds; one that is still running after this long would
# hold a worker on every ticket it guards.
GUARD_TIME_BUDGET_SECONDS = 5.0


def check_workflow(workflow: Workflow) -> list[Problem]:
    problems = [
        *_unreachable(workflow),
        *_dead_ends(workflow),
        *_ambiguous(workflow),
        *_unknown_form_fields(workflow),
        *_type_errors(workflow),
        *_field_conditions(workflow),
        *_unanswerable(workflow),
        *_asked_types(workflow),
    ]
    return sorted(problems, key=lambda p: (p.position.line, p.position.column))


def _successors(workflow: Workflow) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in workflow.states}
    for transition in workflow.transitions:
        graph[transition.source].add(transition.target)
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for following in graph[todo.pop()] - seen:
            seen.add(following)
            todo.append(following)
    return seen


def _unreachable(workflow: Workflow) -> Iterator[Problem]:
    reachable = _reachable(_successors(workflow), workflow.initial)
    for state in workflow.states.values():
        if state.name not in reachable:
            yield Problem(
                state.position,
                f"state {state.name!r} cannot be reached from the initial state "
                f"{workflow.initial!r}",
                "add a transition into it, or remove it",
            )


def _dead_ends(workflow: Workflow) -> Iterator[Problem]:
    graph = _successors(workflow)
    finals = {s.name for s in workflow.states.values() if s.is_final}
    for state in workflow.states.values():
        if state.is_final:
            continue
        if not graph[state.name]:
            yield Problem(
                state.position,
                f"state {state.name!r} is not final and has no transition out of it",
                "add a transition from it, or give it an outcome (completed, rejected, cancelled)",
            )
        elif not _reachable(graph, state.name) & finals:
            yield Problem(
                state.position,
                f"no final state can be reached from state {state.name!r}: tickets entering "
                "it never close",
                "add a transition from this loop to a state with an outcome",
            )


def _ambiguous(workflow: Workflow) -> Iterator[Problem]:
    for state in workflow.states:
        automatic = workflow.transitions_from(state, TriggerKind.AUTOMATIC)
        for index, later in enumerate(automatic):
            for earlier in automatic[:index]:
                if _may_overlap(earlier, later):
                    yield Problem(
                        later.position,
                        f"automatic transitions {earlier.name!r} and {later.name!r} from "
                        f"state {state!r} can fire at once ({_why(earlier, later)})",
                        "give each a guard that excludes the other, e.g. 'guard: X' and "
                        "'guard: !(X)'",
                    )


def _normalized(guard: Guard | None) -> str | None:
    return None if guard is None else "".join(guard.source.split())


def _may_overlap(first: Transition, second: Transition) -> bool:
    return (
        first.guard is None
        or second.guard is None
        or _normalized(first.guard) == _normalized(second.guard)
    )


def _why(first: Transition, second: Transition) -> str:
    if first.guard is None or second.guard is None:
        return "one has no guard, so it always holds"
    return "their guards are the same expression"


def _expressions(workflow: Workflow) -> Iterable[Guard]:
    for guard in (*_conditions(workflow), *(t.trigger.at for t in workflow.transitions)):
        if guard is not None:
            yield guard


def _conditions(workflow: Workflow) -> Iterable[Guard | None]:
    """Expressions that must give true or false: transitions' guards."""
    return tuple(t.guard for t in workflow.transitions)


SAMPLE_VALUES: dict[FieldType, Any] = {
    FieldType.INTEGER: 0,
    FieldType.BOOLEAN: False,
    FieldType.YESNO: False,
    FieldType.MULTICHOICE: [],
    FieldType.FILE: [],
    FieldType.DATE: "2000-01-31",
}


def _sample_value(field: FormField) -> Any:
    return SAMPLE_VALUES.get(field.type, field.choices[0].value if field.choices else "")


def _sample_form(fields: Iterable[FormField]) -> dict[str, Any]:
    return {f.name: _sample_value(f) for f in fields}


def _sample_variables(workflow: Workflow) -> dict[str, Any]:
    now = dt.datetime(2000, 1, 31, tzinfo=dt.UTC)
    sample = Ticket(
        id=0,
        request_type=workflow.name,
        state=workflow.initial,
        form_data=_sample_form((*asked_fields(workflow), *all_fields(workflow.form))),
        created_at=now,
    )
    return guard_context(sample, now)


def _field_lists(workflow: Workflow) -> Iterator[tuple[FormField, ...]]:
    """The request form (R1's fields included), each staff action's fields and each state's
    questions to the customer."""
    yield all_fields(workflow.form)
    for transition in workflow.transitions:
        yield transition.trigger.fields
    for state in workflow.states.values():
        yield state.asks


def asked_fields(workflow: Workflow) -> tuple[FormField, ...]:
    """Every field a state asks the customer, in file order: their answers join the form."""
    return tuple(field for state in workflow.states.values() for field in state.asks)


def _unanswerable(workflow: Workflow) -> Iterator[Problem]:
    for state in workflow.states.values():
        if state.asks and not workflow.transitions_from(state.name, TriggerKind.CUSTOMER_REPLY):
            yield Problem(
                state.position,
                f"state {state.name!r} asks the customer for "
                f"{', '.join(f.name for f in state.asks)}, but no customer_reply transition "
                "leaves it, so the answers would go nowhere",
                f"add a transition 'from: {state.name}' with 'trigger: customer_reply'",
            )


def _asked_types(workflow: Workflow) -> Iterator[Problem]:
    """Answers join the form under their names, so a name keeps one type wherever it is used."""
    known = {f.name: f for f in all_fields(workflow.form)}
    common = set(COMMON_FIELD_NAMES)
    for field in asked_fields(workflow):
        earlier = known.setdefault(field.name, field)
        if field.name in common:
            yield Problem(
                field.position,
                f"a state asks for {field.name!r}, one of the fields every request has",
                "ask under another name: the customer's token, name and email stay as sent",
            )
        elif earlier.type != field.type:
            yield Problem(
                field.position,
                f"asked field {field.name!r} is {field.type}, but {field.name!r} is "
                f"{earlier.type} at line {earlier.position.line}; its answer replaces that "
                "value in form, so guards would meet either type",
                f"make it {earlier.type}, or give it another name",
            )


def _field_conditions(workflow: Workflow) -> Iterator[Problem]:
    """Each `when` reads only answers above it (its sample run is `_type_errors`')."""
    for fields in _field_lists(workflow):
        for index, field in enumerate(fields):
            if field.when is None:
                continue
            above = {f.name for f in fields[:index]}
            for name in sorted(field.when.form_references() - above):
                assert field.when.position is not None
                yield Problem(
                    field.when.position,
                    f"the 'when' of field {field.name!r} reads form.{name}, which is not a field "
                    "above it",
                    "a field is shown according to the answers above it; use one of: "
                    f"{', '.join(sorted(above)) or 'none'}",
                )


def _type_errors(workflow: Workflow) -> Iterator[Problem]:
    """Evaluate every expression on the sample ticket in a child process with a time budget: a
    nested comprehension can run for minutes, and the CEL library cannot be interrupted."""
    variables = _sample_variables(workflow)
    conditions = {id(g) for g in _conditions(workflow) if g is not None}
    samples = [(guard, variables, id(guard) in conditions) for guard in _expressions(workflow)]
    for fields in _field_lists(workflow):
        answers = {"form": _sample_form(fields)}
        samples.extend((f.when, answers, True) for f in fields if isinstance(f.when, Guard))
    guards = [guard for guard, _, _ in samples]
    outcome = run_within(
        [partial(_sample_error, *sample) for sample in samples], GUARD_TIME_BUDGET_SECONDS
    )
    for guard, message in zip(guards, outcome.results, strict=False):
        if message is not None:
            yield _type_problem(guard, message)
    if outcome.stopped is not None:
        stuck = guards[len(outcome.results)]
        assert stuck.position is not None
        yield Problem(
            stuck.position,
            f"{excerpt(stuck.source)!r} {outcome.stopped} on a sample ticket",
            "simplify it: nested .all()/.exists()/.map() over long lists multiply their lengths",
        )


def _sample_error(guard: Guard, variables: Mapping[str, Any], condition: bool) -> str | None:
    """The evaluation error of `guard` on the sample ticket, None if it gives a fitting value
    (or reads a form value the sample leaves out, which a real ticket may have)."""
    try:
        guard.holds(variables) if condition else guard.instant(variables)
    except GuardEvaluationError as exc:
        return None if "no value for" in exc.message else exc.message
    return None


def _type_problem(guard: Guard, message: str) -> Problem:
    assert guard.position is not None
    detail = message.split(": ", 1)[-1].split(". ", 1)[0]
    if "not true or false" in detail or "not a timestamp" in detail:
        return Problem(
            guard.position,
            f"{guard.source!r} gives {detail.split(' gave ', 1)[-1]} on a sample ticket",
            "a guard or 'when' must give true or false (e.g. form.agents >= 5); a "
            "timer's 'at' a timestamp",
        )
    return Problem(
        guard.position,
        f"{guard.source!r} is not type-correct: {detail}",
        "compare like with like; int(x), string(x) and timestamp(x) convert explicitly",
    )


def _unknown_form_fields(workflow: Workflow) -> Iterator[Problem]:
    known = {
        *COMMON_FIELD_NAMES,
        *(f.name for f in workflow.form.fields),
        *(f.name for f in asked_fields(workflow)),
    }
    for guard in _expressions(workflow):
        for name in sorted(guard.form_references() - known):
            assert guard.position is not None
            yield Problem(
                guard.position,
                f"{guard.source!r} reads form.{name}, but the form has no field {name!r}",
                f"add it under form: fields:, or use one of: {', '.join(sorted(known))}",
            )
