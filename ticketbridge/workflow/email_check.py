"""Every variable an email template uses, resolved against the context that email is rendered with.

Templates render with StrictUndefined, so `{{ licence.token }}` would fail only when a customer's
ticket reaches that email. Here each template a workflow sends is parsed (with the layout it
extends) and every name it reads must be one the email gets: the outbox's ticket context, what a
transition adds, and what the template's own context function provides. Attributes of the
ticket, its license and its customer must exist on those records, and `form.X` must be a field
of every workflow that sends the email. Each complaint points at file:line:column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.meta
from jinja2 import nodes

from ticketbridge.customers.models import Customer
from ticketbridge.forms.common import all_fields
from ticketbridge.licenses.emails import TEMPLATE_CONTEXTS
from ticketbridge.licenses.models import License
from ticketbridge.outbox.render import PARTS
from ticketbridge.outbox.service import EMAIL_CONTEXT_VARIABLES
from ticketbridge.position import Position
from ticketbridge.steps.requests import STEP_EMAILS
from ticketbridge.tickets.models import Ticket
from ticketbridge.workflow.definitions import Workflow
from ticketbridge.workflow.engine import TRANSITION_EMAIL_VARIABLES
from ticketbridge.workflow.problems import Problem

RECORDS: Mapping[str, type] = {"ticket": Ticket, "license": License, "customer": Customer}
JINJA_GLOBALS = frozenset(jinja2.Environment().globals)


@dataclass(frozen=True)
class _Read:
    """One name (or record attribute) a template reads, and where."""

    name: str
    attribute: str | None
    file: Path
    line: int


def check_email_templates(workflows: Iterable[Workflow], folder: Path) -> list[Problem]:
    senders: dict[str, list[Workflow]] = {}
    for workflow in workflows:
        for template in _templates_sent(workflow):
            senders.setdefault(template, []).append(workflow)
    problems: list[Problem] = []
    for template, workflows_sending in sorted(senders.items()):
        known = (
            EMAIL_CONTEXT_VARIABLES
            | TRANSITION_EMAIL_VARIABLES
            | (TEMPLATE_CONTEXTS[template].variables if template in TEMPLATE_CONTEXTS else set())
        )
        for read in _reads(folder, [f"{template}/{part}" for part in PARTS]):
            problem = _check(read, known, workflows_sending, template)
            if problem is not None:
                problems.append(problem)
    return sorted(set(problems), key=lambda p: (p.position.file, p.position.line))


def _templates_sent(workflow: Workflow) -> set[str]:
    return {
        *(e for t in workflow.transitions for e in t.emails),
        *(e for s in workflow.states.values() for e in s.emails),
        *(STEP_EMAILS[a.step] for a in workflow.all_actions() if a.step in STEP_EMAILS),
    }


def _check(
    read: _Read, known: frozenset[str] | set[str], workflows: list[Workflow], template: str
) -> Problem | None:
    where = _position(read)
    senders = ", ".join(w.name for w in workflows)
    if read.attribute is None:
        if read.name in known:
            return None
        return Problem(
            where,
            f"email {template!r} (sent by {senders}) reads {read.name!r}, which its context "
            "does not have",
            f"use one of: {', '.join(sorted(known))}",
        )
    if read.name == "form":
        missing = [
            w.name for w in workflows if read.attribute not in {f.name for f in all_fields(w.form)}
        ]
        if not missing:
            return None
        return Problem(
            where,
            f"email {template!r} reads form.{read.attribute}, but the form of "
            f"{', '.join(missing)} has no field {read.attribute!r}",
            "add the field to that form, or stop sending this email from it",
        )
    record = RECORDS[read.name]
    if hasattr(record, read.attribute):
        return None
    return Problem(
        where,
        f"email {template!r} reads {read.name}.{read.attribute}, which a {record.__name__} "
        "does not have",
        f"check the spelling against {record.__module__}.{record.__name__}",
    )


def _reads(folder: Path, names: list[str]) -> Iterator[_Read]:
    """What the templates (and every layout they extend or include) read, each file once."""
    environment = jinja2.Environment()
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        path = folder / name
        if name in seen or not path.is_file():
            continue
        seen.add(name)
        tree = environment.parse(path.read_text(encoding="utf-8"))
        todo.extend(t for t in jinja2.meta.find_referenced_templates(tree) if t)
        free = jinja2.meta.find_undeclared_variables(tree) - JINJA_GLOBALS
        for variable in tree.find_all(nodes.Name):
            if variable.ctx == "load" and variable.name in free:
                yield _Read(variable.name, None, path, variable.lineno)
        for getattr_ in tree.find_all(nodes.Getattr):
            target = getattr_.node
            if isinstance(target, nodes.Name) and target.name in {*RECORDS, "form"}:
                if target.name in free:
                    yield _Read(target.name, getattr_.attr, path, getattr_.lineno)


def _position(read: _Read) -> Position:
    """The line jinja gives, and the column where the name first appears on it."""
    text = read.file.read_text(encoding="utf-8").splitlines()
    line = text[read.line - 1] if 0 < read.line <= len(text) else ""
    needle = f"{read.name}.{read.attribute}" if read.attribute else read.name
    match = re.search(rf"\b{re.escape(needle)}\b", line)
    return Position(str(read.file), read.line, match.start() + 1 if match else 1)
