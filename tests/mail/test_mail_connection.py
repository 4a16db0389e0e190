"""`ticketbridge mail fetch --once` when IMAP cannot be used: one line naming the setting to check
and what to do, never a traceback, and never a password sent unencrypted (issue 8, item 12)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from tests.fixtures.backends import free_port
from ticketbridge.cli import main
from ticketbridge.cli.context import State
from ticketbridge.intake.mailbox import connection


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a firewall or a hung server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        yield listener.getsockname()[1]


def fetch(runtime) -> tuple[int, str]:
    state = State()
    state._settings, state._runtime = runtime.settings, runtime
    result = CliRunner().invoke(main, ["mail", "fetch", "--once"], obj=state)
    return result.exit_code, result.output


CASES = {
    "refused": ({"imap_port": "free"}, "TICKETBRIDGE_IMAP_HOST: ", "refused the connection"),
    "unknown host": (
        {"imap_host": "no-such-host.invalid"},
        "TICKETBRIDGE_IMAP_HOST: ",
        "'no-such-host.invalid' is unknown",
    ),
    "timeout": ({"imap_port": "silent"}, "TICKETBRIDGE_IMAP_HOST: ", "no answer from"),
    "login rejected": (
        {"imap_password": "wrong"},
        "TICKETBRIDGE_IMAP_USER: ",
        "rejected the login of 'agent'",
    ),
    "no starttls": (
        {"imap_tls": "starttls"},
        "TICKETBRIDGE_IMAP_TLS: ",
        "does not offer STARTTLS, and the password is never sent unencrypted",
    ),
    "ssl on a plain port": ({"imap_tls": "ssl"}, "TICKETBRIDGE_IMAP_TLS: ", "TLS handshake"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_imap_failures_give_one_line_naming_the_setting(
    make_mail_runtime, sqlite_url, silent_port, monkeypatch, case
) -> None:
    changes, setting, says = case
    ports = {"free": free_port(), "silent": silent_port}
    changes = {k: ports.get(v, v) if k == "imap_port" else v for k, v in changes.items()}
    monkeypatch.setattr(connection, "CONNECT_SECONDS", 1.0)
    status, output = fetch(make_mail_runtime(database_url=sqlite_url, **changes))
    assert status == 1
    assert output.startswith(f"Error: {setting}") and says in output, output
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output
