"""A state that waits on the customer asks for fields (`asks`): the same field language as a
form or a staff action, checked at load with file:line:column, read by guards as `form.X`."""

from __future__ import annotations

import pytest

from tests.workflow.test_wf_check import BASE, FORMS, TEMPLATES, problems
from ticketbridge.forms.fields import FieldType
from ticketbridge.steps import installed
from ticketbridge.workflow.loader import parse_workflow

ASKED = "      - {name: confirmed, label: Apply it, type: yesno, required: true}\n"
REPLY = "  - {name: answered, from: b, to: done, trigger: customer_reply, guard: form.confirmed}\n"
# Line 11 is the asked field, line 24 the customer-reply transition.
ASKING = BASE.replace(
    "    waits_on: staff\n", "    waits_on: customer\n    asks:\n" + ASKED
).replace("    label: Finish\n", "    label: Finish\n" + REPLY)


def column(line: str, text: str) -> int:
    return line.index(text) + 1


def test_a_state_asks_typed_fields_that_guards_read() -> None:
    workflow = parse_workflow(
        ASKING, "t.yaml", steps=installed.load(), templates=TEMPLATES, forms=FORMS
    )
    (field,) = workflow.states["b"].asks
    assert (field.name, field.label, field.type, field.required) == (
        "confirmed",
        "Apply it",
        FieldType.YESNO,
        True,
    )
    assert (field.position.line, field.position.column) == (11, 9)
    assert workflow.transition("answered").guard.holds({"form": {"confirmed": True}})


CASES = [
    (
        "an asked field clashes with a form field's type",
        (ASKED, ASKED + "      - {name: agents, type: text}\n"),
        "t.yaml:12:9: asked field 'agents' is text, but 'agents' is integer at line 4; its "
        "answer replaces that value in form, so guards would meet either type — make it "
        "integer, or give it another name",
    ),
    (
        "an asked field is one every request has",
        (ASKED, ASKED + "      - {name: customer_email, type: email}\n"),
        "t.yaml:12:9: a state asks for 'customer_email', one of the fields every request has "
        "— ask under another name",
    ),
    (
        "an asked field of an unknown type",
        ("type: yesno, required", "type: checkbox, required"),
        f"t.yaml:11:{column(ASKED, 'yesno')}: field type 'checkbox' is not allowed — use "
        "one of: text, textarea",
    ),
    (
        "an asked field twice",
        (ASKED, ASKED + ASKED),
        "t.yaml:12:9: 'confirmed' is defined twice — rename one",
    ),
    (
        "a guard reads an answer that is not asked",
        ("guard: form.confirmed}", "guard: form.confirm}"),
        f"t.yaml:24:{column(REPLY, 'form.confirmed')}: 'form.confirm' reads form.confirm, but "
        "the form has no field 'confirm' — add it under form: fields:, or use one of: "
        "accept_conditions, agents, confirmed, customer_email",
    ),
    (
        "a guard reads an answer with the wrong type",
        ("guard: form.confirmed}", "guard: form.confirmed > 1}"),
        f"t.yaml:24:{column(REPLY, 'form.confirmed')}: 'form.confirmed > 1' is not type-correct",
    ),
    (
        "a when reads an answer below it",
        (
            ASKED,
            "      - {name: why, type: text, when: form.confirmed}\n" + ASKED,
        ),
        "t.yaml:11:39: the 'when' of field 'why' reads form.confirmed, which is not a field "
        "above it",
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_asks_problem_names_its_place_and_the_mend(
    change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert ASKING.count(old) == 1
    found = problems(ASKING.replace(old, new))
    assert any(p.startswith(expected) for p in found), found
