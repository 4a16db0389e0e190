"""A workflow file that would crash, hang or smuggle objects into the service is refused at load
with file:line:column (issue 8, item 12 and 15): YAML tags anywhere, expressions too big or too
deep for the CEL library, and expressions that overrun their time budget on the sample ticket."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.workflow.test_wf_check import BASE, problems
from ticketbridge.cli import main
from ticketbridge.config import PROJECT_ROOT
from ticketbridge.workflow import check

TAG_HINT = "remove it; write plain values, and quote text that starts with '!'"
STEP_WITH_PARAMS = "    label: Finish\n    actions:\n      - apply_demo_bundle: {params}\n"


def with_step_params(params: str) -> str:
    return BASE.replace("    label: Finish\n", STEP_WITH_PARAMS.format(params=params))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            with_step_params('{days: !!python/object/apply:os.system ["true"]}'),
            "t.yaml:23:35: YAML tag '!!python/object/apply:os.system' is not allowed",
        ),
        (
            with_step_params("{days: !!binary aGVsbG8=}"),
            "t.yaml:23:35: YAML tag '!!binary' is not allowed",
        ),
        (
            with_step_params("!custom {days: 3}"),
            "t.yaml:23:28: YAML tag '!custom' is not allowed",
        ),
        (
            BASE.replace("guard: form.agents > 4", "guard: !!str form.agents > 4"),
            "t.yaml:16:12: YAML tag '!!str' is not allowed",
        ),
        (
            BASE.replace("name: t\n", "name: !<tag:yaml.org,2002:str> t\n"),
            "t.yaml:1:7: YAML tag 'tag:yaml.org,2002:str' is not allowed",
        ),
    ],
    ids=["python-object", "binary", "local-tag", "core-tag-on-guard", "verbatim-tag"],
)
def test_r_any_yaml_tag_is_a_load_error_at_its_place(text: str, expected: str) -> None:
    assert problems(text) == [f"{expected} — {TAG_HINT}"]


def test_a_tag_in_a_step_parameter_is_one_problem_line_from_workflows_check(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(with_step_params('{days: !!python/object/apply:os.system ["true"]}'))
    result = CliRunner().invoke(main, ["workflows", "check", str(path)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{path}:23:35: YAML tag '!!python/object/apply:os.system' is not allowed — {TAG_HINT}\n"
    )
    assert result.stderr == "1 problem(s) in 1 of 1 file(s)\n"


@pytest.mark.parametrize(
    ("guard", "expected"),
    [
        (
            "+".join(["1"] * 30_000) + " > 0",
            "t.yaml:16:12: guard '" + "1+" * 30 + "…' is 60003 characters long, more than the "
            "1000 allowed; split the condition",
        ),
        (
            "(" * 30 + "form.agents > 4" + ")" * 30,
            "t.yaml:16:12: guard '" + "(" * 30 + "form.agents > 4" + ")" * 15 + "…' nests "
            "brackets more than 24 deep; write it flatter",
        ),
    ],
    ids=["30000-term-sum", "30-deep-brackets"],
)
def test_r_a_guard_too_big_or_too_deep_is_refused_before_cel_sees_it(
    tmp_path: Path, guard: str, expected: str
) -> None:
    """In a real process: without the limit, the CEL library overflows its stack (SIGSEGV)."""
    path = tmp_path / "t.yaml"
    path.write_text(BASE.replace("guard: form.agents > 4", f"guard: {guard}"))
    result = subprocess.run(
        [sys.executable, "-m", "ticketbridge", "workflows", "check", str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (1, "1 problem(s) in 1 of 1 file(s)\n")
    assert result.stdout.startswith(f"{tmp_path}/{expected}")
    assert result.stdout.count("\n") == 1


def test_brackets_inside_string_literals_do_not_count_as_nesting() -> None:
    guard = "form.customer_name != '" + "(" * 40 + "' && form.agents > 4"
    assert problems(BASE.replace("form.agents > 4", guard).replace("to: b\n", "to: c\n", 1))[
        0
    ].startswith("t.yaml:15:9: unknown state 'c'")


@pytest.mark.timeout(120)
def test_r_a_guard_over_its_time_budget_is_a_load_error_and_the_check_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five nested .all() over 40-element lists: 10^8 steps, minutes inside the CEL library."""
    monkeypatch.setattr(check, "GUARD_TIME_BUDGET_SECONDS", 1.0)
    items = "[" + ",".join(["1"] * 40) + "]"
    slow = "form.agents > 4 || " + "".join(f"{items}.all(x{i}, " for i in range(5))
    slow += "true" + ")" * 5
    path = tmp_path / "t.yaml"
    path.write_text(BASE.replace("guard: form.agents > 4", f"guard: '{slow}'"))
    result = CliRunner().invoke(main, ["workflows", "check", str(path)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{path}:16:12: '{slow[:60]}…' took longer than 1 s on a sample ticket — simplify it: "
        "nested .all()/.exists()/.map() over long lists multiply their lengths\n"
    )


def test_a_file_that_is_not_utf8_is_a_problem_at_its_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(BASE.replace("label: Finish", "label: Fin\xe9").encode("latin-1"))
    result = CliRunner().invoke(main, ["workflows", "check", str(path)])
    assert (result.exit_code, result.stdout) == (
        1,
        f"{path}:21:15: the file is not UTF-8 text — save it as UTF-8\n",
    )
