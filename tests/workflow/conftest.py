"""Workflow-test fixtures: services over a private copy of tests/workflow/workflows/, on SQLite
or on the shared throwaway PostgreSQL database of tests/fixtures/backends.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ticketbridge.outbox.senders import FolderSender
from ticketbridge.services import Services

WORKFLOW_FILES = Path(__file__).resolve().parent / "workflows"
WfServices = Callable[..., Services]


@pytest.fixture
def workflows_dir(tmp_path: Path) -> Path:
    """A copy of the test workflows, so a test may publish a new version by editing one."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    for source in WORKFLOW_FILES.glob("*.yaml"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture
def make_wf_services(
    tmp_path: Path, workflows_dir: Path, sqlite_template: Path, make_services: WfServices
) -> WfServices:
    """Build services (again, after a workflow changed) on one database: SQLite unless given."""
    sqlite_file = tmp_path / "workflow.sqlite3"
    sqlite_file.write_bytes(sqlite_template.read_bytes())

    def make(**overrides: Any) -> Services:
        settings = {
            "workflows_path": str(workflows_dir),
            "database_url": f"sqlite:///{sqlite_file}",
            **overrides,
        }
        return make_services(sender=FolderSender(tmp_path / "mail"), **settings)

    return make


@pytest.fixture
def wf(make_wf_services: WfServices) -> Services:
    return make_wf_services()


@pytest.fixture
def pg_wf(make_wf_services: WfServices, pg_url: str) -> Services:
    return make_wf_services(database_url=pg_url)
