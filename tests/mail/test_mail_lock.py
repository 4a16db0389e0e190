"""The SQLite lease on a mailbox: a provably dead holder on this host is replaced at once, a live
one or one on another host is waited for, and the refusal says who holds it and until when."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from tests.mail.mailbuild import fetch_once
from ticketbridge.clock import utcnow
from ticketbridge.errors import Conflict
from ticketbridge.intake.mailbox.fetcher import mailbox_name
from ticketbridge.intake.mailbox.models import MailboxLease
from ticketbridge.lifeline import ProcessIdentity, process_start
from ticketbridge.runtime import Runtime


@pytest.fixture
def sqlite_runtime(make_mail_runtime, sqlite_url: str) -> Runtime:
    return make_mail_runtime(database_url=sqlite_url)


def hold(runtime: Runtime, holder: ProcessIdentity, expires_in: dt.timedelta) -> dt.datetime:
    expires_at = (utcnow() + expires_in).replace(microsecond=0)
    with runtime.db.transaction() as session:
        session.add(
            MailboxLease(
                mailbox=mailbox_name(runtime.settings),
                holder="someone else",
                expires_at=expires_at,
                host=holder.host,
                pid=holder.pid,
                process_started=holder.started,
            )
        )
    return expires_at


def finished_process() -> ProcessIdentity:
    """The identity of a process that has run and exited (its pid is free again)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    identity = ProcessIdentity(ProcessIdentity.current().host, child.pid, process_start(child.pid))
    child.kill()
    child.wait()
    return identity


def test_a_dead_holder_on_this_host_is_replaced_at_once(sqlite_runtime) -> None:
    hold(sqlite_runtime, finished_process(), dt.timedelta(minutes=5))
    assert fetch_once(sqlite_runtime).total == 0


def test_a_reused_pid_is_not_the_holder(sqlite_runtime) -> None:
    me = ProcessIdentity.current()
    hold(
        sqlite_runtime, ProcessIdentity(me.host, me.pid, "another boot:1"), dt.timedelta(minutes=5)
    )
    assert fetch_once(sqlite_runtime).total == 0


def test_a_live_holder_is_named_with_its_expiry(sqlite_runtime) -> None:
    expires_at = hold(sqlite_runtime, ProcessIdentity.current(), dt.timedelta(minutes=5))
    with pytest.raises(Conflict) as refused:
        fetch_once(sqlite_runtime)
    assert f"process {os.getpid()} on {ProcessIdentity.current().host}" in refused.value.message
    assert f"until {expires_at:%Y-%m-%d %H:%M:%S} UTC" in refused.value.message


def test_a_holder_on_another_host_is_waited_for_until_its_lease_expires(sqlite_runtime) -> None:
    other = ProcessIdentity("another-host.example", 1, "boot:1")
    hold(sqlite_runtime, other, dt.timedelta(minutes=5))
    with pytest.raises(Conflict, match="process 1 on another-host.example until"):
        fetch_once(sqlite_runtime)
    with sqlite_runtime.db.transaction() as session:
        lease = session.get(MailboxLease, mailbox_name(sqlite_runtime.settings))
        assert lease is not None
        lease.expires_at = utcnow() - dt.timedelta(seconds=1)
    assert fetch_once(sqlite_runtime).total == 0
