"""A form's mistakes are load errors with file:line:column: catalogue lists, checks, `when`,
keys that do not fit the field's type."""

from __future__ import annotations

import pytest

from tests.workflow.test_wf_check import FORMS, TEMPLATES
from ticketbridge.forms.fields import Choice, FieldType
from ticketbridge.steps import installed
from ticketbridge.workflow.loader import parse_workflow
from ticketbridge.workflow.problems import WorkflowLoadError

WORKFLOW = """\
name: t
form:
  checks: [token_active]
  fields:
    - {name: reason, type: choice, choices: {catalogue: reasons.deactivate}}
    - {name: add_ons, type: multichoice, choices: {catalogue: add_ons}}
    - {name: detail, type: textarea, max: 300, when: 'form.reason == "other"'}
    - {name: log_file, type: file, max_files: 2, max_size: 5MB}
initial: a
states:
  a: {waits_on: staff}
  done: {outcome: completed}
transitions:
  - {name: close, from: a, to: done, trigger: manual, label: Close}
"""


def load(text: str):  # type: ignore[no-untyped-def]
    return parse_workflow(text, "t.yaml", steps=installed.load(), templates=TEMPLATES, forms=FORMS)


def problems(text: str) -> list[str]:
    with pytest.raises(WorkflowLoadError) as error:
        load(text)
    return [str(p) for p in error.value.problems]


def test_catalogue_choices_checks_and_limits_are_resolved_at_load() -> None:
    form = load(WORKFLOW).form
    assert form.checks == ("token_active",)
    reason, add_ons, detail, log_file = form.fields
    assert reason.choices[-1] == Choice("other", "Other") and reason.choices_from == (
        "reasons.deactivate"
    )
    assert Choice("ai_agent_assistants", "AI Agent Assistants") in add_ons.choices
    assert (detail.type, detail.max_length, detail.when is not None) == (
        FieldType.TEXTAREA,
        300,
        True,
    )
    assert log_file.file_limits == (2, 5 * 1024 * 1024)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("{catalogue: add_ons}", "{catalogue: addons}"),
            "t.yaml:6:63: the catalogue has no list 'addons' to choose from — use one of: ",
        ),
        (
            ("[token_active]", "[token_is_active]"),
            "t.yaml:3:12: unknown form check 'token_is_active' — use a registered check: ",
        ),
        (
            ('form.reason == "other"', 'form.log_file == "other"'),
            "t.yaml:7:54: the 'when' of field 'detail' reads form.log_file, which is not a field "
            "above it",
        ),
        (
            ('form.reason == "other"', 'license.state == "active"'),
            "t.yaml:7:54: when 'license.state == \"active\"' reads license",
        ),
        (
            ("type: textarea, max: 300", "type: date, max: 300"),
            "t.yaml:7:39: 'max' does not apply to field 'detail' of type date",
        ),
        (("max_size: 5MB", "max_size: 5GB"), "t.yaml:8:60: max_size '5GB' is not a size"),
    ],
)
def test_each_form_mistake_names_its_place(change: tuple[str, str], expected: str) -> None:
    found = problems(WORKFLOW.replace(*change))
    assert any(p.startswith(expected) for p in found), found
