"""What every `ticketbridge` command imports before it runs: only what it may use.

Each command is its own short process (cron runs `mail fetch --once` every few minutes), so
a library imported at start and never used is paid on every run, in time and in memory.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ticketbridge.config import PROJECT_ROOT

# Sign-in's Argon2 (a hash at import), Alembic (only `db upgrade` and a schema behind the code
# need it), and the CEL package's REPL (typer, rich, prompt_toolkit, pygments).
NOT_AT_START = (
    "argon2",
    "alembic",
    "typer",
    "rich",
    "prompt_toolkit",
    "pygments",
)


def test_the_command_line_imports_none_of_the_libraries_only_some_commands_use() -> None:
    code = (
        "import json, sys\n"
        "import ticketbridge.cli\n"
        f"print(json.dumps([name for name in {NOT_AT_START!r} if name in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []


def test_guards_still_evaluate_without_the_cel_command_line() -> None:
    code = (
        "import sys\n"
        "from ticketbridge.position import Position\n"
        "from ticketbridge.workflow.guards import compile_guard\n"
        "guard = compile_guard('form.seats > 2', Position('t.yaml', 1, 1))\n"
        "print('prompt_toolkit' in sys.modules, guard.evaluate({'form': {'seats': 3}}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "True"]
