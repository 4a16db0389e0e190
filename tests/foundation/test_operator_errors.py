"""Operators never see a traceback (issue 8, items 12 and 14): every command answers an
unreachable PostgreSQL or Redis, an unmigrated database, an instance folder it cannot create and
input it cannot use with one line naming the setting or option and what to do."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command as alembic_command
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result

from tests.fixtures import backends
from tests.fixtures.backends import free_port
from ticketbridge import migrate
from ticketbridge.cli import main
from ticketbridge.config import PROJECT_ROOT, load_settings
from ticketbridge.errors import ConfigError
from ticketbridge.outbox.senders import FolderSender

SECRET = "an-operator-secret-key-of-48-characters-00000000"
# Commands that need the database, each the way an operator would type it.
DATABASE_COMMANDS = [
    ["db", "current"],
    ["db", "upgrade"],
    ["tickets", "export"],
    ["workflows", "list"],
    ["sweep"],
    ["worker", "--burst"],
    ["mail", "quarantine"],
    ["billing", "preview", "--month", "2026-11"],
]


def one_line_error(result: Result) -> str:
    """The command stopped on purpose (not on an exception) with exactly one line."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("Error: ")
    return result.output.rstrip("\n")


def invoke(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"TICKETBRIDGE_SECRET_KEY": SECRET, **env})


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_unreachable_postgresql_is_one_line_with_the_url_masked(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"postgresql://tb:hunter2@127.0.0.1:{free_port()}/tickets"
    line = one_line_error(
        invoke(
            *command,
            TICKETBRIDGE_INSTANCE_PATH=str(tmp_path),
            TICKETBRIDGE_DATABASE_URL=url,
            TICKETBRIDGE_REDIS_URL="redis://127.0.0.1:6379/4",
        )
    )
    assert line.startswith(
        "Error: TICKETBRIDGE_DATABASE_URL: cannot use the database at "
        f"postgresql+psycopg://tb:***@{url.split('@')[1]} (connection failed: "
    )
    assert line.endswith(
        "check that it is running and reachable with this URL (host, port, name, user, password)"
    )
    assert "hunter2" not in line


def test_unreachable_redis_is_one_line_with_the_url_masked(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'tb.sqlite3'}"
    migrate.upgrade(database)
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    line = one_line_error(
        invoke(
            "worker",
            "--burst",
            "--no-sweep",
            TICKETBRIDGE_INSTANCE_PATH=str(tmp_path),
            TICKETBRIDGE_DATABASE_URL=database,
            TICKETBRIDGE_REDIS_URL=url,
        )
    )
    assert line.startswith(
        f"Error: TICKETBRIDGE_REDIS_URL: cannot use Redis at redis://:***@{url.split('@')[1]} ("
    )
    assert line.endswith(
        "check that Redis is running there and the URL (host, port, database, password) is right"
    )


@pytest.mark.parametrize("command", DATABASE_COMMANDS[2:], ids=" ".join)
def test_an_unmigrated_database_says_run_db_upgrade(tmp_path: Path, command: list[str]) -> None:
    database = tmp_path / "tb.sqlite3"
    line = one_line_error(
        invoke(
            *command,
            TICKETBRIDGE_INSTANCE_PATH=str(tmp_path),
            TICKETBRIDGE_DATABASE_URL=f"sqlite:///{database}",
            TICKETBRIDGE_REDIS_URL="redis://127.0.0.1:6379/4",
        )
    )
    assert line == (
        f"Error: TICKETBRIDGE_DATABASE_URL: the database at sqlite:///{database} has no tables "
        "yet; run `ticketbridge db upgrade`"
    )


def test_a_database_behind_the_code_says_run_db_upgrade(db_url: str, tmp_path: Path) -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(db_url))
    head = scripts.get_current_head()
    first = [script.revision for script in scripts.walk_revisions()][-1]
    alembic_command.downgrade(migrate.alembic_config(db_url), first)
    try:
        line = one_line_error(
            invoke(
                "tickets",
                "export",
                TICKETBRIDGE_INSTANCE_PATH=str(tmp_path),
                TICKETBRIDGE_DATABASE_URL=db_url,
            )
        )
    finally:
        migrate.upgrade(db_url)
    assert line.endswith(
        f"is at schema revision {first}, not {head}; run `ticketbridge db upgrade`"
    )


def test_the_head_read_from_the_scripts_text_is_alembics() -> None:
    """`require_head` trusts this reading when the database is at it, without Alembic."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert migrate.script_head() == scripts.get_current_head()


def test_an_instance_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for extra in ({}, {"TICKETBRIDGE_REDIS_URL": "redis://127.0.0.1:6379/4"}):
        line = one_line_error(
            invoke("tickets", "export", TICKETBRIDGE_INSTANCE_PATH=str(blocker / "i"), **extra)
        )
        assert line == (
            f"Error: TICKETBRIDGE_INSTANCE_PATH: cannot create {blocker / 'i'} (Not a "
            "directory); point it at a folder this user can create and write"
        )


def test_a_sqlite_file_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_line_error(
        invoke(
            "db",
            "upgrade",
            TICKETBRIDGE_INSTANCE_PATH=str(tmp_path / "instance"),
            TICKETBRIDGE_DATABASE_URL=f"sqlite:///{blocker}/tb.sqlite3",
        )
    )
    assert line.startswith(f"Error: TICKETBRIDGE_DATABASE_URL: cannot create {blocker}")


def test_a_missing_instance_folder_is_created_owner_only_with_the_database_in_it(
    tmp_path: Path,
) -> None:
    """With the secret key given, nothing created the instance folder and SQLite could not open
    its file there; now every folder and file the service writes is private to its user."""
    instance = tmp_path / "srv" / "ticketbridge" / "instance"
    result = invoke("db", "upgrade", TICKETBRIDGE_INSTANCE_PATH=str(instance))
    assert result.exit_code == 0, result.output
    for folder in (tmp_path / "srv", tmp_path / "srv" / "ticketbridge", instance):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((instance / "ticketbridge.sqlite3").stat().st_mode) == 0o600


def test_the_embedded_secret_outbox_and_attachments_are_private(tmp_path: Path) -> None:
    from ticketbridge.intake.email.attachments import attachment_path, store_attachments
    from ticketbridge.intake.email.parse import Attachment

    previous = os.umask(0o022)
    try:
        settings = load_settings(environ={"TICKETBRIDGE_INSTANCE_PATH": str(tmp_path / "i")})
        FolderSender(settings.mail_folder).send(
            sender="a@example.com", recipient="b@example.com", raw=b"x", name="m"
        )
        [stored] = store_attachments(
            settings.instance_path, (Attachment("a.txt", "text/plain", b"hello"),)
        )
    finally:
        os.umask(previous)
    stored_file = attachment_path(settings.instance_path, stored["sha256"])
    for folder in (
        settings.instance_path,
        settings.mail_folder,
        settings.instance_path / "attachments",
        stored_file.parent,
    ):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((settings.instance_path / "secret_key").stat().st_mode) == 0o600


def simulate_error(tmp_path: Path, data: bytes, *event: str) -> tuple[Path, str]:
    form = tmp_path / "form.json"
    form.write_bytes(data)
    command = ["workflows", "simulate", "demo", "--data", str(form), *event]
    return form, one_line_error(invoke(*command, TICKETBRIDGE_INSTANCE_PATH=str(tmp_path)))


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b"[1, 2]", "array"), (b'"demo"', "string"), (b"3", "number"), (b"null", "null")],
)
def test_simulate_refuses_json_that_is_not_an_object(
    tmp_path: Path, data: bytes, kind: str
) -> None:
    form, line = simulate_error(tmp_path, data)
    assert line == (
        f"Error: --data {form}: a JSON {kind}, not an object; write one object of field names "
        'and values, e.g. {"customer_name": "Acme"}'
    )


@pytest.mark.parametrize(
    ("data", "event", "expected"),
    [
        (b"{", (), "--data {form}: not JSON (Expecting property name enclosed in double quotes"),
        (b"\xff\xfe{", (), "--data {form}: not JSON (not UTF-8 text)"),
        (b"{}", ("--event", "manual:approve:[1]"), "event 'manual:approve:[1]': the fields: a"),
    ],
    ids=["not-json", "not-utf8", "event-fields-array"],
)
def test_simulate_refuses_unreadable_input_in_one_line(
    tmp_path: Path, data: bytes, event: tuple[str, ...], expected: str
) -> None:
    form, line = simulate_error(tmp_path, data, *event)
    assert line.startswith("Error: " + expected.format(form=form))


def test_a_short_secret_key_is_refused_at_start_up(tmp_path: Path) -> None:
    line = one_line_error(
        invoke(
            "config",
            "show",
            TICKETBRIDGE_INSTANCE_PATH=str(tmp_path),
            TICKETBRIDGE_SECRET_KEY="x" * 31,
        )
    )
    assert line == (
        "Error: TICKETBRIDGE_SECRET_KEY: 31 bytes is too short; use at least 32 random bytes, "
        "e.g. from python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
    )
    with pytest.raises(ConfigError):
        backends.test_settings(tmp_path, secret_key="é" * 15)
    assert backends.test_settings(tmp_path, secret_key="x" * 32).secret_key == "x" * 32


def test_config_show_masks_the_credentials_inside_every_url(tmp_path: Path) -> None:
    result = invoke(
        "config",
        "show",
        TICKETBRIDGE_INSTANCE_PATH=str(tmp_path),
        TICKETBRIDGE_DATABASE_URL="postgresql://tb:hunter2@db.example/tb?password=hunter3&x=1",
        TICKETBRIDGE_REDIS_URL="redis://:hunter4@cache.example:6379/0",
        TICKETBRIDGE_PUBLIC_URL="https://user:hunter5@tickets.example",
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["database_url"] == "postgresql+psycopg://tb:***@db.example/tb?password=***&x=1"
    assert shown["redis_url"] == "redis://:***@cache.example:6379/0"
    assert shown["public_url"] == "https://user:***@tickets.example"
    assert "hunter" not in result.output


def test_real_processes_print_no_traceback(tmp_path: Path) -> None:
    """The same answers from `python -m ticketbridge`, as an operator's shell sees them."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TICKETBRIDGE_")},
        "TICKETBRIDGE_INSTANCE_PATH": str(tmp_path),
        "TICKETBRIDGE_SECRET_KEY": SECRET,
    }
    unreachable = {"TICKETBRIDGE_DATABASE_URL": f"postgresql://tb@127.0.0.1:{free_port()}/x"}
    for command, extra, setting in [
        (["tickets", "export"], unreachable, "TICKETBRIDGE_DATABASE_URL"),
        (["workflows", "list"], {}, "TICKETBRIDGE_DATABASE_URL"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "ticketbridge", *command],
            env={**env, **extra},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr.startswith(f"Error: {setting}: ")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
