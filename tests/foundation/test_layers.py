"""The core's imports say what it depends on: none hides under `if TYPE_CHECKING` or inside a
function, where import-linter's layer contracts (.importlinter) would still see it but a reader
would not, and where a cycle could run unnoticed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ticketbridge.config import PROJECT_ROOT

CORE = ("workflow", "steps", "licenses", "outbox", "tickets", "intake", "jobs", "forms")


def core_modules() -> list[Path]:
    package = PROJECT_ROOT / "ticketbridge"
    return [path for name in CORE for path in sorted((package / name).rglob("*.py"))] + [
        package / "runtime.py"
    ]


def hidden_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found.append(f"{path.name}:{node.lineno}: if TYPE_CHECKING")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [
                f"{path.name}:{inner.lineno}: import inside {node.name}()"
                for inner in ast.walk(node)
                if isinstance(inner, ast.Import | ast.ImportFrom)
            ]
    return found


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_core_imports_sit_at_the_top_of_the_module(path: Path) -> None:
    assert hidden_imports(path) == []


def test_the_check_sees_a_hidden_import(tmp_path: Path) -> None:
    hiding = tmp_path / "hiding.py"
    hiding.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import os\n"
        "def f():\n    import sys\n"
    )
    assert hidden_imports(hiding) == [
        "hiding.py:2: if TYPE_CHECKING",
        "hiding.py:5: import inside f()",
    ]
