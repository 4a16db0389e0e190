"""`workflows check` knows the domain: billing-calendar timers, catalogue names, and the
variables of every email a workflow sends, each problem with file:line:column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fixtures import backends
from ticketbridge.cli import main
from ticketbridge.cli.context import State
from ticketbridge.config import PROJECT_ROOT


def check(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> list[str]:
    """Copy the shipped workflows and templates, apply `edits` (path: (old, new)), run check."""
    for folder in ("workflows", "email_templates"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    for path, (old, new) in edits.items():
        target = tmp_path / path
        text = target.read_text(encoding="utf-8")
        assert text.count(old) == 1, (path, old)
        target.write_text(text.replace(old, new), encoding="utf-8")
    state = State()
    state._settings = backends.test_settings(
        tmp_path,
        workflows_path=str(tmp_path / "workflows"),
        email_templates_path=str(tmp_path / "email_templates"),
    )
    result = CliRunner().invoke(main, ["workflows", "check"], obj=state)
    lines = result.output.splitlines()
    assert result.exit_code == (1 if edits else 0), result.output
    return [line.removeprefix(str(tmp_path) + "/") for line in lines]


def test_the_shipped_workflows_templates_and_catalogue_agree(tmp_path: Path) -> None:
    assert check(tmp_path, {}) == ["10 workflow(s) checked, no problems"]


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            {"workflows/remove.yaml": ("at: decrease_effective_date\n", "at: end_of_month\n")},
            "workflows/remove.yaml:65:9: at 'end_of_month' is not an instant of the billing "
            "calendar — use one of: first_of_next_month",
        ),
        (
            {"workflows/add.yaml": ("{catalogue: plugins}", "[data_retention, botifi]")},
            "workflows/add.yaml:25:7: field 'plugins' offers 'botifi', which is not in the "
            "catalogue's plugins — use one of: data_retention, botify",
        ),
        (
            {"workflows/add.yaml": ("name: users,", "name: seats,")},
            "workflows/add.yaml:19:7: integer field 'seats' is read as the new total of an item",
        ),
        (
            {
                "workflows/add.yaml": (
                    'guard: license.state == "active"',
                    'guard: license.plan == "gold"',
                )
            },
            "workflows/add.yaml:45:12: 'license.plan == \"gold\"' compares license.plan with "
            "'gold', which is not a plan",
        ),
        (
            {"email_templates/license_synced/body.txt": ("{{ license.token }}", "{{ licence }}")},
            "email_templates/license_synced/body.txt:2:32: email 'license_synced' (sent by "
            "feature, key) reads 'licence', which its context does not have",
        ),
        (
            {"email_templates/license_synced/body.txt": ("license.token", "license.tokn")},
            "email_templates/license_synced/body.txt:2:32: email 'license_synced' reads "
            "license.tokn, which a License does not have",
        ),
        (
            {
                "email_templates/request_received/body.txt": (
                    "{{ state.description }}",
                    "{{ form.support_package }}",
                )
            },
            "email_templates/request_received/body.txt:4:4: email 'request_received' reads "
            "form.support_package, but the form of contract, feature, grace, key has no field "
            "'support_package'",
        ),
    ],
    ids=["calendar", "plugin", "total", "plan", "variable", "attribute", "form field"],
)
def test_each_domain_problem_names_its_place(
    tmp_path: Path, edits: dict[str, tuple[str, str]], expected: str
) -> None:
    lines = check(tmp_path, edits)
    assert any(line.startswith(expected) for line in lines), lines
