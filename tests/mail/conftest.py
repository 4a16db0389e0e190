"""Mail-test fixtures: runtimes whose workflows and templates add tests/mail's own to the shipped
ones."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.dovecot import DovecotServer
from tests.mail.mailbuild import imap_settings
from tests.mail.processes import FetcherProcesses
from ticketbridge.config import PROJECT_ROOT
from ticketbridge.runtime import Runtime

HERE = Path(__file__).resolve().parent
MailRuntime = Callable[..., Runtime]


@pytest.fixture
def mail_config(tmp_path: Path) -> dict[str, str]:
    """Shipped workflows and templates plus the test `question` workflow, in a private folder."""
    workflows, templates = tmp_path / "workflows", tmp_path / "email_templates"
    shutil.copytree(PROJECT_ROOT / "workflows", workflows)
    shutil.copytree(PROJECT_ROOT / "email_templates", templates)
    shutil.copytree(HERE / "workflows", workflows, dirs_exist_ok=True)
    shutil.copytree(HERE / "email_templates", templates, dirs_exist_ok=True)
    return {"workflows_path": str(workflows), "email_templates_path": str(templates)}


@pytest.fixture
def make_mail_runtime(
    make_runtime: Callable[..., Runtime], mail_config: dict[str, str], imap_mailbox: DovecotServer
) -> MailRuntime:
    """Runtime reading the empty test mailbox; keyword arguments override settings."""

    def make(**overrides: Any) -> Runtime:
        return make_runtime(**{**mail_config, **imap_settings(imap_mailbox), **overrides})

    return make


@pytest.fixture
def fetchers(tmp_path: Path) -> Iterator[FetcherProcesses]:
    """Starts `ticketbridge mail fetch` processes; kills whichever is still running at the end."""
    processes = FetcherProcesses(tmp_path)
    yield processes
    processes.stop_all()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database of its own: the embedded default, for tests that need it only."""
    copy = tmp_path / "ticketbridge.sqlite3"
    shutil.copy(sqlite_template, copy)
    return f"sqlite:///{copy}"
