"""Every validation error names file:line:column, what is wrong and how to mend it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.workflow.conftest import WfRuntime
from ticketbridge.cli import main
from ticketbridge.config import PROJECT_ROOT
from ticketbridge.errors import TicketbridgeError
from ticketbridge.intake.vocabulary import CatalogueVocabulary
from ticketbridge.licenses.catalogue import load_catalogue
from ticketbridge.outbox.render import TemplateRenderer
from ticketbridge.steps import installed
from ticketbridge.workflow.loader import parse_workflow
from ticketbridge.workflow.problems import WorkflowLoadError

TEMPLATES = TemplateRenderer(PROJECT_ROOT / "email_templates")
FORMS = CatalogueVocabulary(load_catalogue(PROJECT_ROOT / "config" / "catalogue.yaml"))

BASE = """\
name: t
form:
  fields:
    - {name: agents, type: integer}
initial: a
states:
  a:
  b:
    waits_on: staff
  done:
    outcome: completed
transitions:
  - name: go
    from: a
    to: b
    guard: form.agents > 4
  - name: finish
    from: b
    to: done
    trigger: manual
    label: Finish
"""


def problems(text: str) -> list[str]:
    with pytest.raises(WorkflowLoadError) as error:
        parse_workflow(text, "t.yaml", steps=installed.load(), templates=TEMPLATES, forms=FORMS)
    return [str(p) for p in error.value.problems]


def test_the_base_workflow_is_clean() -> None:
    assert (
        parse_workflow(
            BASE, "t.yaml", steps=installed.load(), templates=TEMPLATES, forms=FORMS
        ).name
        == "t"
    )


CASES = [
    (
        "unknown state",
        ("    to: b\n    guard", "    to: c\n    guard"),
        "t.yaml:15:9: unknown state 'c' in 'to' — use one of the states: a, b, done",
    ),
    (
        "unknown step",
        ("    label: Finish\n", "    label: Finish\n    actions: [apply_bundle]\n"),
        "t.yaml:22:15: unknown step 'apply_bundle' — use a registered step: announce_decrease, ",
    ),
    (
        "bad step parameter",
        (
            "    label: Finish\n",
            "    label: Finish\n    actions:\n      - apply_demo_bundle: {days: 0}\n",
        ),
        "t.yaml:23:9: step 'apply_demo_bundle' parameter 'days': Must be greater than or "
        "equal to 1 and less than or equal to 365. — see `ticketbridge workflows schema` for "
        "the step's parameters",
    ),
    (
        "missing template",
        ("    outcome: completed\n", "    outcome: completed\n    emails: [welcome]\n"),
        "t.yaml:12:14: unknown email template 'welcome' — add email_templates/welcome/ or use "
        "one of: awaiting_admin_check, change_scheduled, demo_activated, ",
    ),
    (
        "unknown form field",
        ("guard: form.agents > 4", "guard: form.agent > 4"),
        "t.yaml:16:12: 'form.agent > 4' reads form.agent, but the form has no field 'agent' — "
        "add it under form: fields:, or use one of: accept_conditions, agents, "
        "customer_email, customer_name, token",
    ),
    (
        "guard syntax",
        ("guard: form.agents > 4", "guard: form.agents >"),
        "t.yaml:16:12: guard 'form.agents >' does not parse: Syntax error: mismatched input "
        "'<EOF>' at character 14 — write a CEL expression",
    ),
    (
        "guard unknown variable",
        ("guard: form.agents > 4", "guard: licence.state == 'trial'"),
        "t.yaml:16:12: guard \"licence.state == 'trial'\" names licence; expressions may use "
        "only form, license, now, ticket — write a CEL expression",
    ),
    (
        "unreachable state",
        ("  done:\n", "  lost:\n    outcome: cancelled\n  done:\n"),
        "t.yaml:10:3: state 'lost' cannot be reached from the initial state 'a' — add a "
        "transition into it, or remove it",
    ),
    (
        "two automatic transitions",
        ("    label: Finish\n", "    label: Finish\n  - {name: skip, from: a, to: done}\n"),
        "t.yaml:22:5: automatic transitions 'go' and 'skip' from state 'a' can fire at once "
        "(one has no guard, so it always holds) — give each a guard that excludes the other",
    ),
    (
        "same guard twice",
        (
            "    label: Finish\n",
            "    label: Finish\n  - {name: skip, from: a, to: done, guard: 'form.agents>4'}\n",
        ),
        "t.yaml:22:5: automatic transitions 'go' and 'skip' from state 'a' can fire at once "
        "(their guards are the same expression)",
    ),
    (
        "timer without target",
        (
            "    label: Finish\n",
            "    label: Finish\n  - {name: wait, from: b, to: done, trigger: timer}\n",
        ),
        "t.yaml:22:5: a timer transition needs exactly one target — add either 'after: 30d' "
        "or 'at: first_of_next_month' (a billing-calendar instant, or an expression giving a "
        "timestamp), not both",
    ),
    (
        "bad duration",
        (
            "    label: Finish\n",
            "    label: Finish\n  - {name: wait, from: b, to: done, trigger: timer, after: 30 "
            "days}\n",
        ),
        "t.yaml:22:60: after '30 days' is not a duration — write a number and a unit: 90m, "
        "12h, 30d, 2w",
    ),
    (
        "manual without label",
        ("    label: Finish\n", ""),
        "t.yaml:17:5: a manual transition has no label — add 'label: ...': the button staff click",
    ),
    (
        "unknown key",
        ("    waits_on: staff", "    wait_on: staff"),
        "t.yaml:9:5: unknown key 'wait_on' in state 'b' — allowed keys: actions, asks, "
        "description, emails, outcome, target_time, waits_on",
    ),
    (
        "bad enum",
        ("    waits_on: staff", "    waits_on: boss"),
        "t.yaml:9:15: waits_on 'boss' is not allowed — use one of: staff, customer, system",
    ),
    (
        "leaving a final state",
        (
            "    label: Finish\n",
            "    label: Finish\n  - {name: reopen, from: done, to: b, trigger: manual, label: "
            "Reopen}\n",
        ),
        "t.yaml:22:26: state 'done' is final (outcome completed), so only a timer to another "
        "final state may leave it — remove its outcome, or make this a timer into a final state",
    ),
    (
        "guard type error",
        ("guard: form.agents > 4", "guard: form.agents > '4'"),
        "t.yaml:16:12: \"form.agents > '4'\" is not type-correct: No such overload: the "
        "operation is not defined for the given operand types — compare like with like",
    ),
    (
        "guard not a condition",
        ("guard: form.agents > 4", "guard: form.agents"),
        "t.yaml:16:12: 'form.agents' gives 0, not true or false on a sample ticket — a guard "
        "or 'when' must give true or false",
    ),
    (
        "reopen into a final state",
        ("initial: a\n", "initial: a\nreopen_on_reply: done\n"),
        "t.yaml:6:18: reopen_on_reply names 'done', which is not an open state — use one of: "
        "a, b, or remove it to open a new linked ticket instead",
    ),
    (
        "asks on a state that waits on staff",
        ("    waits_on: staff\n", "    waits_on: staff\n    asks: [{name: log, type: file}]\n"),
        "t.yaml:10:11: state 'b' asks the customer for fields but waits on staff — add "
        "'waits_on: customer' to the state, or remove 'asks'",
    ),
    (
        "asks with no customer reply to take the answers",
        ("    waits_on: staff\n", "    waits_on: customer\n    asks: [{name: log, type: file}]\n"),
        "t.yaml:8:3: state 'b' asks the customer for log, but no customer_reply transition "
        "leaves it, so the answers would go nowhere — add a transition 'from: b' with "
        "'trigger: customer_reply'",
    ),
    (
        "invalid YAML",
        ("  a:\n", "  a: [\n"),
        "t.yaml:9:13: not valid YAML: expected ',' or ']', but got ':' — check the "
        "indentation and quoting on this line",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [c[1:] for c in CASES if c[2]], ids=[c[0] for c in CASES if c[2]]
)
def test_each_problem_names_its_place_and_the_mend(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert BASE.count(old) == 1
    found = problems(BASE.replace(old, new))
    assert any(p.startswith(expected) for p in found), found


def test_a_state_with_no_way_out() -> None:
    text = BASE.replace("  done:\n", "  c:\n  done:\n").replace(
        "    label: Finish\n",
        "    label: Finish\n  - {name: stuck, from: a, to: c, guard: form.agents <= 4}\n",
    )
    assert problems(text) == [
        "t.yaml:10:3: state 'c' is not final and has no transition out of it — add a "
        "transition from it, or give it an outcome (completed, rejected, cancelled)"
    ]


def test_a_loop_that_never_reaches_a_final_state() -> None:
    text = BASE.replace("    to: done\n    trigger: manual", "    to: a\n    trigger: manual")
    assert (
        problems(text)[0]
        == "t.yaml:7:3: no final state can be reached from state 'a': tickets entering it "
        "never close — add a transition from this loop to a state with an outcome"
    )


def test_all_problems_of_a_file_come_together() -> None:
    text = BASE.replace("waits_on: staff", "waits_on: boss").replace("to: done", "to: nowhere")
    assert [p.split(": ", 1)[0] for p in problems(text)] == ["t.yaml:9:15", "t.yaml:19:9"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_command_exit_codes_and_output(tmp_path: Path) -> None:
    good = write(tmp_path, "t", BASE)
    bad = write(
        tmp_path,
        "u",
        BASE.replace("name: t", "name: u").replace("waits_on: staff", "waits_on: boss"),
    )
    runner = CliRunner()
    clean = runner.invoke(main, ["workflows", "check", str(good)])
    assert (clean.exit_code, clean.output) == (0, "1 workflow(s) checked, no problems\n")
    failing = runner.invoke(main, ["workflows", "check", str(tmp_path)])
    assert failing.exit_code == 1
    assert failing.stdout.splitlines() == [
        f"{bad}:9:15: waits_on 'boss' is not allowed — use one of: staff, customer, system"
    ]
    assert "1 problem(s) in 1 of 2 file(s)" in failing.stderr


def test_the_file_name_must_match_the_workflow_name(tmp_path: Path) -> None:
    path = write(tmp_path, "other", BASE)
    result = CliRunner().invoke(main, ["workflows", "check", str(path)])
    assert result.exit_code == 1
    assert result.stdout.startswith(
        f"{path}:1:1: workflow name 't' differs from its file name 'other' — rename the file"
    )


def test_the_service_refuses_to_start_on_an_invalid_workflow(
    make_wf_runtime: WfRuntime, workflows_dir: Path
) -> None:
    write(workflows_dir, "t", BASE.replace("to: done", "to: nowhere"))
    with pytest.raises(TicketbridgeError) as error:
        make_wf_runtime()
    assert (
        str(error.value)
        == f"{workflows_dir / 't.yaml'}:19:9: unknown state 'nowhere' in 'to' — use one of "
        "the states: a, b, done"
    )
