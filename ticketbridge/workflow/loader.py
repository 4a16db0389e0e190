"""Load a workflow YAML file into `definitions`, rejecting anything the engine could trip on later.

YAML is composed into nodes (never constructed into Python objects by tags), so loading is safe,
and every node keeps its line and column: each complaint reads `file:line:column: what is wrong
— how to mend it`. All problems of a file are collected and reported together, the graph checks
of `workflow.check` included, so an admin fixes a file in one pass.

The keys each element accepts are module constants: the JSON Schema is generated from them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from ticketbridge import yamltext
from ticketbridge.forms.fields import CHOICE_TYPES, LENGTH_TYPES, Choice
from ticketbridge.licenses.calendar import INSTANTS
from ticketbridge.workflow.check import check_workflow
from ticketbridge.workflow.definitions import (
    Action,
    CalendarAt,
    FieldType,
    FormField,
    FormSpec,
    Outcome,
    Position,
    State,
    Transition,
    Trigger,
    TriggerKind,
    WaitsOn,
    Workflow,
)
from ticketbridge.workflow.guards import HELPERS, Guard, GuardSyntaxError, compile_guard, excerpt
from ticketbridge.workflow.problems import Problem, WorkflowLoadError

E = TypeVar("E")
T = TypeVar("T")
DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CALENDAR = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(?:([+-])\s*(\d+\s*[mhdw]))?\s*$")
NAME_RULE = "lower case letters, digits and _, starting with a letter"
DURATION_RULE = "a number and a unit: 90m, 12h, 30d, 2w"
WORKFLOW_KEYS = ("name", "title", "form", "initial", "states", "transitions", "reopen_on_reply")
WORKFLOW_REQUIRED = ("name", "initial", "states", "transitions")
FORM_KEYS = ("token", "token_label", "intro", "fields", "checks")
TOKEN_CHOICES = ("required", "optional")
FIELD_KEYS = (
    "name",
    "label",
    "type",
    "required",
    "choices",
    "min",
    "max",
    "max_files",
    "max_size",
    "help",
    "section",
    "when",
)
FIELD_REQUIRED = ("name", "type")
CHOICE_KEYS = ("value", "label")
CATALOGUE_CHOICES_KEY = "catalogue"
SIZE = re.compile(r"^\s*(\d+)\s*(KB|MB)?\s*$")
SIZE_RULE = "a number of bytes, or of KB or MB: 500KB, 10MB"
SIZE_UNITS = {None: 1, "KB": 1024, "MB": 1024 * 1024}
# Which keys make sense on which field types: anything else is a load error, not ignored.
FIELD_KEY_TYPES = {
    "choices": CHOICE_TYPES,
    "min": frozenset({FieldType.INTEGER}),
    "max": frozenset({FieldType.INTEGER, *LENGTH_TYPES}),
    "max_files": frozenset({FieldType.FILE}),
    "max_size": frozenset({FieldType.FILE}),
}
STATE_KEYS = (
    "waits_on",
    "outcome",
    "target_time",
    "description",
    "emails",
    "actions",
    "asks",
)
TRIGGER_KEYS = {TriggerKind.MANUAL: ("label", "role", "fields"), TriggerKind.TIMER: ("after", "at")}
TRANSITION_KEYS = (
    "name",
    "from",
    "to",
    "trigger",
    "guard",
    "actions",
    "emails",
    "reason",
    *(k for keys in TRIGGER_KEYS.values() for k in keys),
)
TRANSITION_REQUIRED = ("from", "to")
ROLES = ("agent", "admin")


class StepCatalog(Protocol):
    def names(self) -> Iterable[str]: ...

    def validate_params(self, step: str, params: Mapping[str, Any]) -> dict[str, list[str]]: ...


class TemplateCatalog(Protocol):
    def names(self) -> Iterable[str]: ...


class FormVocabulary(Protocol):
    """What forms may name: lists of choices kept elsewhere (the license catalogue) and the
    registered cross-checks a form runs before anything is created."""

    def choice_sources(self) -> Iterable[str]: ...

    def choices(self, source: str) -> tuple[Choice, ...] | None: ...

    def check_names(self) -> Iterable[str]: ...


def load_workflow(
    path: Path, *, steps: StepCatalog, templates: TemplateCatalog, forms: FormVocabulary
) -> Workflow:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        position = Position(
            str(path), data.count(b"\n", 0, exc.start) + 1, exc.start - line_start + 1
        )
        raise WorkflowLoadError(
            [Problem(position, "the file is not UTF-8 text", "save it as UTF-8")]
        ) from None
    return parse_workflow(text, str(path), steps=steps, templates=templates, forms=forms)


def parse_workflow(
    text: str,
    filename: str,
    *,
    steps: StepCatalog,
    templates: TemplateCatalog,
    forms: FormVocabulary,
    checks: bool = True,
) -> Workflow:
    """Parse and check one file; `checks=False` skips the graph checks, for versions already in use:
    a check added later must not strand the tickets still running on an older version."""
    reader = _Reader(filename, set(steps.names()), set(templates.names()), steps, forms)
    try:
        root = yamltext.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise WorkflowLoadError(
            [
                Problem(
                    Position(filename, line, column),
                    f"not valid YAML: {exc.problem}",
                    "check the indentation and quoting on this line",
                )
            ]
        ) from None
    tags = _tag_problems(text, filename)
    if tags:
        raise WorkflowLoadError(tags)
    if root is None:
        raise WorkflowLoadError(
            [
                Problem(
                    Position(filename, 1, 1),
                    "the file is empty",
                    f"a workflow needs {', '.join(WORKFLOW_REQUIRED)}",
                )
            ]
        )
    workflow = reader.workflow(root, text)
    if workflow is None:
        raise WorkflowLoadError(reader.problems)
    problems = check_workflow(workflow) if checks else []
    if problems:
        raise WorkflowLoadError(problems)
    return workflow


def _tag_problems(text: str, filename: str) -> list[Problem]:
    """Every explicit YAML tag (`!!python/object`, `!!binary`, `!custom`, `!<...>`): a tag turns a
    value into something other than text, a number, a list or a mapping, and a workflow holds
    nothing else. The tokens keep their position, so each is reported where it is written."""
    return [
        Problem(
            Position(filename, token.start_mark.line + 1, token.start_mark.column + 1),
            f"YAML tag {''.join(part or '' for part in token.value)!r} is not allowed",
            "remove it; write plain values, and quote text that starts with '!'",
        )
        for token in yamltext.tag_tokens(text)
    ]


def version_of(text: str) -> str:
    """A workflow's version is the hash of its text: the same file always gets the same version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_duration(value: str) -> dt.timedelta | None:
    match = DURATION.match(value)
    if not match:
        return None
    return dt.timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})


class _Reader:
    """Walks the node tree; on a bad node it records a problem and carries on with a placeholder."""

    def __init__(
        self,
        filename: str,
        step_names: set[str],
        template_names: set[str],
        steps: StepCatalog,
        forms: FormVocabulary,
    ) -> None:
        self.filename = filename
        self.step_names = step_names
        self.template_names = template_names
        self.steps = steps
        self.forms = forms
        self.problems: list[Problem] = []

    def pos(self, node: yaml.Node) -> Position:
        return Position(self.filename, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: yaml.Node, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.pos(node), message, hint))

    def mapping(
        self, node: yaml.Node, what: str, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> _Entries:
        if not isinstance(node, yaml.MappingNode):
            self.fail(
                node,
                f"{what} must be a mapping of keys to values",
                "write one 'key: value' per line, indented under it",
            )
            return _Entries(self, {})
        allowed = set(allowed)
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or key not in allowed:
                self.fail(
                    key_node,
                    f"unknown key {key!r} in {what}",
                    f"allowed keys: {', '.join(sorted(allowed))}",
                )
            elif key in entries:
                self.fail(key_node, f"{key!r} appears twice in {what}", "keep one")
            else:
                entries[key] = (key_node, value_node)
        for key in required:
            if key not in entries:
                self.fail(node, f"{what} needs {key!r}", f"add '{key}: ...'")
        return _Entries(self, entries)

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(
                node,
                f"{what} must be a single value, not a list or mapping",
                "write it on the same line after the colon",
            )
            return ""
        return str(node.value)

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list", "start each item with '- ', or write [a, b]")
            return []
        return list(node.value)

    def boolean(self, node: yaml.Node, what: str) -> bool:
        value = self.scalar(node, what).lower()
        if value not in ("true", "false", "yes", "no"):
            self.fail(node, f"{what} must be true or false, not {value!r}", "write true or false")
        return value in ("true", "yes")

    def integer(self, node: yaml.Node, what: str) -> int | None:
        value = self.scalar(node, what)
        try:
            return int(value)
        except ValueError:
            self.fail(
                node, f"{what} must be a whole number, not {value!r}", "write digits only, e.g. 5"
            )
            return None

    def enum(self, node: yaml.Node, what: str, kind: type[E]) -> E | None:
        value = self.scalar(node, what)
        try:
            return kind(value)  # type: ignore[call-arg]
        except ValueError:
            choices = ", ".join(m.value for m in kind)  # type: ignore[attr-defined]
            self.fail(node, f"{what} {value!r} is not allowed", f"use one of: {choices}")
            return None

    def name(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node, what)
        if value and not NAME.match(value):
            self.fail(node, f"{what} {value!r} is not a valid name", f"use {NAME_RULE}")
        return value

    def guard(self, node: yaml.Node, what: str) -> Guard | None:
        source = self.scalar(node, what)
        try:
            return compile_guard(source, self.pos(node))
        except GuardSyntaxError as exc:
            self.fail(
                node,
                f"{what} {excerpt(source)!r} {exc.message}",
                'write a CEL expression, e.g. form.agents >= 5 && license.state == "not_active"',
            )
            return None

    def duration(self, node: yaml.Node, what: str) -> dt.timedelta | None:
        value = self.scalar(node, what)
        duration = parse_duration(value)
        if duration is None:
            self.fail(node, f"{what} {value!r} is not a duration", f"write {DURATION_RULE}")
        return duration

    def timer_at(self, node: yaml.Node, what: str) -> Guard | CalendarAt | None:
        """A named instant of the billing calendar (`first_of_next_month`, `license_expiry - 7d`),
        or else a CEL expression giving a timestamp."""
        source = self.scalar(node, what)
        match = CALENDAR.match(source)
        if match is None:
            return self.guard(node, what)
        name, sign, offset = match.groups()
        if name not in INSTANTS:
            known = "; ".join(f"{i.name} ({i.description})" for i in INSTANTS.values())
            self.fail(
                node,
                f"{what} {name!r} is not an instant of the billing calendar",
                f"use one of: {known}; optionally with an offset such as '- 7d'",
            )
            return None
        delta = parse_duration(offset) if offset else dt.timedelta(0)
        assert delta is not None
        return CalendarAt(name, -delta if sign == "-" else delta)

    def templates(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        names = []
        for item in self.sequence(node, what):
            name = self.scalar(item, f"an entry of {what}")
            if name and name not in self.template_names:
                known = ", ".join(sorted(self.template_names)) or "none"
                self.fail(
                    item,
                    f"unknown email template {name!r}",
                    f"add email_templates/{name}/ or use one of: {known}",
                )
            names.append(name)
        return tuple(names)

    def actions(self, node: yaml.Node, what: str) -> tuple[Action, ...]:
        actions = []
        for item in self.sequence(node, what):
            params: dict[str, Any] = {}
            if isinstance(item, yaml.MappingNode) and len(item.value) == 1:
                key_node, params_node = item.value[0]
                step = self.scalar(key_node, "a step name")
                if not isinstance(params_node, yaml.MappingNode):
                    self.fail(
                        params_node,
                        f"the parameters of step {step!r} must be a mapping",
                        f"write '{step}: {{name: value}}'",
                    )
                else:
                    params = yaml.SafeLoader(yaml.serialize(params_node)).get_single_data() or {}
            else:
                step = self.scalar(item, "an action (a step name, or 'step: {parameters}')")
            if step and step not in self.step_names:
                self.fail(
                    item,
                    f"unknown step {step!r}",
                    f"use a registered step: {', '.join(sorted(self.step_names))}",
                )
            elif step:
                for param, messages in self.steps.validate_params(step, params).items():
                    self.fail(
                        item,
                        f"step {step!r} parameter {param!r}: {'; '.join(messages)}",
                        "see `ticketbridge workflows schema` for the step's parameters",
                    )
            actions.append(Action(step=step, params=params, position=self.pos(item)))
        return tuple(actions)

    def form_field(self, node: yaml.Node) -> FormField:
        get = self.mapping(node, "a form field", FIELD_KEYS, FIELD_REQUIRED)
        name = get.read("name", self.name, "", "field name")
        field_type = get.read("type", lambda n, w: self.enum(n, w, FieldType), None, "field type")
        for key, types in FIELD_KEY_TYPES.items():
            misplaced = get.node(key)
            if field_type is not None and misplaced is not None and field_type not in types:
                self.fail(
                    misplaced,
                    f"{key!r} does not apply to field {name!r} of type {field_type}",
                    f"it applies to types {', '.join(sorted(types))}; remove it",
                )
        no_choices: tuple[Choice, ...] = ()
        choices = get.read("choices", self.choices, no_choices)
        if field_type in CHOICE_TYPES and not choices and get.node("choices") is None:
            self.fail(
                node,
                f"field {name!r} of type {field_type} has no choices",
                "add 'choices: [first, second]' or 'choices: {catalogue: add_ons}'",
            )
        minimum = get.read("min", self.integer, None)
        maximum = get.read("max", self.integer, None)
        if minimum is not None and maximum is not None and minimum > maximum:
            self.fail(node, f"field {name!r}: min {minimum} is above max {maximum}", "swap them")
        return FormField(
            name=name,
            label=get.read("label", self.scalar, name.replace("_", " ").capitalize()),
            type=field_type or FieldType.TEXT,
            position=self.pos(node),
            required=get.read("required", self.boolean, False),
            choices=choices,
            choices_from=self.choices_source(get.node("choices")),
            minimum=minimum,
            maximum=maximum,
            max_files=get.read("max_files", self.integer, None),
            max_size=get.read("max_size", self.size, None),
            help=get.read("help", self.scalar, ""),
            section=get.read("section", self.scalar, ""),
            when=get.read("when", self.when, None),
        )

    def when(self, node: yaml.Node, what: str) -> Guard | None:
        """A field's condition reads only the answers (`form`): it is decided as the form is
        filled in, before there is a ticket, a license or a clock to read."""
        guard = self.guard(node, what)
        if guard is None:
            return None
        others = sorted(set(guard.program.variables()) - {"form", *HELPERS})
        if others:
            self.fail(
                node,
                f"{what} {guard.source!r} reads {', '.join(others)}",
                'a field\'s when may read only form, e.g. form.reason == "new_token"',
            )
        return guard

    def choices(self, node: yaml.Node, what: str) -> tuple[Choice, ...]:
        """`[a, b]`, `[{value: a, label: "Words"}]`, or `{catalogue: add_ons}`."""
        if isinstance(node, yaml.MappingNode):
            get = self.mapping(node, what, (CATALOGUE_CHOICES_KEY,), (CATALOGUE_CHOICES_KEY,))
            source = get.read(CATALOGUE_CHOICES_KEY, self.scalar, "")
            found = self.forms.choices(source) if source else ()
            if found is None:
                self.fail(
                    get.node(CATALOGUE_CHOICES_KEY) or node,
                    f"the catalogue has no list {source!r} to choose from",
                    f"use one of: {', '.join(sorted(self.forms.choice_sources()))}",
                )
            return found or ()
        choices: list[tuple[Choice, yaml.Node]] = []
        for item in self.sequence(node, what):
            if isinstance(item, yaml.MappingNode):
                get = self.mapping(item, "a choice", CHOICE_KEYS, CHOICE_KEYS)
                value = get.read("value", self.scalar, "")
                choices.append((Choice(value, get.read("label", self.scalar, value)), item))
            else:
                value = self.scalar(item, "a choice")
                choices.append((Choice(value, value), item))
        self.unique((choice.value, self.pos(item)) for choice, item in choices)
        return tuple(choice for choice, _ in choices)

    def choices_source(self, node: yaml.Node | None) -> str:
        """The catalogue list a `choices: {catalogue: …}` names ('' for choices written out)."""
        if not isinstance(node, yaml.MappingNode):
            return ""
        return next((str(v.value) for k, v in node.value if k.value == CATALOGUE_CHOICES_KEY), "")

    def size(self, node: yaml.Node, what: str) -> int | None:
        value = self.scalar(node, what)
        match = SIZE.match(value)
        if not match:
            self.fail(node, f"{what} {value!r} is not a size", f"write {SIZE_RULE}")
            return None
        return int(match.group(1)) * SIZE_UNITS[match.group(2)]

    def checks(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        known = set(self.forms.check_names())
        names = []
        for item in self.sequence(node, what):
            name = self.scalar(item, f"an entry of {what}")
            if name and name not in known:
                self.fail(
                    item,
                    f"unknown form check {name!r}",
                    f"use a registered check: {', '.join(sorted(known))}",
                )
            names.append(name)
        return tuple(names)

    def fields(self, node: yaml.Node, what: str) -> tuple[FormField, ...]:
        fields = tuple(self.form_field(item) for item in self.sequence(node, what))
        self.unique((f.name, f.position) for f in fields if f.name)
        return fields

    def unique(self, names: Iterable[tuple[str, Position]]) -> None:
        seen: set[str] = set()
        for name, position in names:
            if name in seen:
                self.problems.append(
                    Problem(
                        position, f"{name!r} is defined twice", "rename one: names must be unique"
                    )
                )
            seen.add(name)

    def form(self, node: yaml.Node) -> FormSpec:
        get = self.mapping(node, "form", FORM_KEYS)
        token = get.read("token", self.scalar, "required", "form token")
        token_node = get.node("token")
        if token not in TOKEN_CHOICES and token_node is not None:
            self.fail(
                token_node,
                f"form token {token!r} is not allowed",
                f"use one of: {', '.join(TOKEN_CHOICES)}",
            )
        return FormSpec(
            token_required=token != "optional",
            token_label=get.read("token_label", self.scalar, ""),
            intro=get.read("intro", self.scalar, ""),
            fields=get.read("fields", self.fields, (), "form fields"),
            checks=get.read("checks", self.checks, (), "form checks"),
        )

    def state(self, name_node: yaml.Node, node: yaml.Node) -> State:
        name = self.name(name_node, "state name")
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return State(name=name, position=self.pos(name_node))
        get = self.mapping(node, f"state {name!r}", STATE_KEYS)
        waits_on = get.read("waits_on", lambda n, w: self.enum(n, w, WaitsOn), None)
        asks_node = get.node("asks")
        if asks_node is not None and waits_on is not WaitsOn.CUSTOMER:
            self.fail(
                asks_node,
                f"state {name!r} asks the customer for fields but waits on "
                f"{waits_on or WaitsOn.SYSTEM}",
                "add 'waits_on: customer' to the state, or remove 'asks'",
            )
        return State(
            name=name,
            position=self.pos(name_node),
            waits_on=waits_on or WaitsOn.SYSTEM,
            outcome=get.read("outcome", lambda n, w: self.enum(n, w, Outcome), None),
            target_time=get.read("target_time", self.duration, None),
            description=get.read("description", self.scalar, ""),
            emails=get.read("emails", self.templates, ()),
            actions=get.read("actions", self.actions, ()),
            asks=get.read("asks", self.fields, (), f"the fields state {name!r} asks"),
        )

    def trigger(self, node: yaml.Node, get: _Entries) -> Trigger:
        kind = (
            get.read("trigger", lambda n, w: self.enum(n, w, TriggerKind), None)
            or TriggerKind.AUTOMATIC
        )
        for owner, keys in TRIGGER_KEYS.items():
            for key in keys if kind != owner else ():
                misplaced = get.node(key)
                if misplaced is not None:
                    self.fail(
                        misplaced,
                        f"{key!r} belongs to {owner} transitions, and this one is {kind}",
                        f"remove it, or write 'trigger: {owner}'",
                    )
        if kind == TriggerKind.MANUAL and get.node("label") is None:
            self.fail(
                node, "a manual transition has no label", "add 'label: ...': the button staff click"
            )
        if kind == TriggerKind.TIMER and (get.node("after") is None) == (get.node("at") is None):
            self.fail(
                node,
                "a timer transition needs exactly one target",
                "add either 'after: 30d' or 'at: first_of_next_month' (a billing-calendar "
                "instant, or an expression giving a timestamp), not both",
            )
        at = get.read("at", self.timer_at, None)
        role = get.read("role", self.scalar, "agent")
        role_node = get.node("role")
        if role not in ROLES and role_node is not None:
            self.fail(role_node, f"role {role!r} is not allowed", f"use one of: {', '.join(ROLES)}")
        return Trigger(
            kind=kind,
            label=get.read("label", self.scalar, ""),
            role=role,
            fields=get.read("fields", self.fields, ()),
            after=get.read("after", self.duration, None),
            at=at if isinstance(at, Guard) else None,
            calendar=at if isinstance(at, CalendarAt) else None,
        )

    def transition(self, node: yaml.Node, states: Mapping[str, State]) -> Transition:
        get = self.mapping(node, "a transition", TRANSITION_KEYS, TRANSITION_REQUIRED)
        ends = []
        for key in ("from", "to"):
            value = get.read(key, self.scalar, "")
            end_node = get.node(key)
            if value and value not in states and end_node is not None:
                self.fail(
                    end_node,
                    f"unknown state {value!r} in '{key}'",
                    f"use one of the states: {', '.join(states)}",
                )
            ends.append(value)
        source, target = ends
        source_node = get.node("from")
        trigger = self.trigger(node, get)
        follow_up = trigger.kind == TriggerKind.TIMER and states.get(target, None) is not None
        if (
            source in states
            and states[source].is_final
            and source_node is not None
            and not (follow_up and states[target].is_final)
        ):
            self.fail(
                source_node,
                f"state {source!r} is final (outcome {states[source].outcome}), so only a timer "
                "to another final state may leave it",
                "remove its outcome, or make this a timer into a final state (a follow-up such "
                "as a demo's expiry)",
            )
        return Transition(
            name=get.read("name", self.name, f"{source}_to_{target}", "transition name"),
            source=source,
            target=target,
            trigger=trigger,
            position=self.pos(node),
            guard=get.read("guard", self.guard, None),
            actions=get.read("actions", self.actions, ()),
            emails=get.read("emails", self.templates, ()),
            reason=get.read("reason", self.scalar, ""),
        )

    def workflow(self, root: yaml.Node, text: str) -> Workflow | None:
        get = self.mapping(root, "the workflow", WORKFLOW_KEYS, WORKFLOW_REQUIRED)
        states_node = get.node("states")
        states: dict[str, State] = {}
        if states_node is not None:
            if not isinstance(states_node, yaml.MappingNode):
                self.fail(
                    states_node,
                    "states must be a mapping of state names to their settings",
                    "write 'name:' for each state, indented under 'states:'",
                )
            else:
                for name_node, state_node in states_node.value:
                    state = self.state(name_node, state_node)
                    if state.name in states:
                        self.fail(
                            name_node,
                            f"state {state.name!r} is defined twice",
                            "rename or merge one of them",
                        )
                    states[state.name] = state
        initial = get.read("initial", self.scalar, "")
        initial_node = get.node("initial")
        if states and initial not in states and initial_node is not None:
            self.fail(
                initial_node,
                f"initial state {initial!r} is not defined",
                f"use one of the states: {', '.join(states)}",
            )
        transitions = tuple(self.transition(n, states) for n in get.items("transitions"))
        self.unique((t.name, t.position) for t in transitions)
        name = get.read("name", self.name, "")
        title = get.read("title", self.scalar, "")
        form = get.read("form", lambda n, _w: self.form(n), FormSpec())
        reopen = get.read("reopen_on_reply", self.scalar, "") or None
        reopen_node = get.node("reopen_on_reply")
        if (
            reopen is not None
            and reopen_node is not None
            and (reopen not in states or states[reopen].is_final)
        ):
            open_states = ", ".join(n for n, st in states.items() if not st.is_final)
            self.fail(
                reopen_node,
                f"reopen_on_reply names {reopen!r}, which is not an open state",
                f"use one of: {open_states}, or remove it to open a new linked ticket instead",
            )
        if self.problems:
            return None
        return Workflow(
            name=name,
            title=title,
            version=version_of(text),
            source=text,
            path=self.filename,
            initial=initial,
            states=states,
            transitions=transitions,
            form=form,
            reopen_on_reply=reopen,
        )


class _Entries:
    """The keys of one mapping, each read by the reader when present, else its default."""

    def __init__(self, reader: _Reader, keys: dict[str, tuple[yaml.Node, yaml.Node]]) -> None:
        self.reader = reader
        self.keys = keys

    def node(self, key: str) -> yaml.Node | None:
        return self.keys[key][1] if key in self.keys else None

    def read(self, key: str, read: Callable[[yaml.Node, str], T], default: T, what: str = "") -> T:
        node = self.node(key)
        return default if node is None else read(node, what or key)

    def items(self, key: str) -> list[yaml.Node]:
        """The entries of a list-valued key (none when the key is absent)."""
        empty: list[yaml.Node] = []
        return self.read(key, self.reader.sequence, empty)
