"""Workflow-test fixtures: runtimes over a private copy of tests/workflow/workflows/, on SQLite
or on the shared throwaway PostgreSQL database of tests/fixtures/backends.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ticketbridge.outbox.senders import FolderSender
from ticketbridge.runtime import Runtime

WORKFLOW_FILES = Path(__file__).resolve().parent / "workflows"
WfRuntime = Callable[..., Runtime]


@pytest.fixture
def workflows_dir(tmp_path: Path) -> Path:
    """A copy of the test workflows, so a test may publish a new version by editing one."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    for source in WORKFLOW_FILES.glob("*.yaml"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture
def make_wf_runtime(
    tmp_path: Path, workflows_dir: Path, sqlite_template: Path, make_runtime: WfRuntime
) -> WfRuntime:
    """Build a runtime (again, after a workflow changed) on one database: SQLite unless given."""
    sqlite_file = tmp_path / "workflow.sqlite3"
    sqlite_file.write_bytes(sqlite_template.read_bytes())

    def make(**overrides: Any) -> Runtime:
        settings = {
            "workflows_path": str(workflows_dir),
            "database_url": f"sqlite:///{sqlite_file}",
            **overrides,
        }
        return make_runtime(sender=FolderSender(tmp_path / "mail"), **settings)

    return make


@pytest.fixture
def wf(make_wf_runtime: WfRuntime) -> Runtime:
    return make_wf_runtime()


@pytest.fixture
def pg_wf(make_wf_runtime: WfRuntime, pg_url: str) -> Runtime:
    return make_wf_runtime(database_url=pg_url)
