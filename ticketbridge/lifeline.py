"""Process lifetimes: helpers that end with their parent; telling a dead process from a live one.

A long-running command (the mail fetcher, the worker, the web server) is stopped by deploys, the
OOM killer or a container stop, often with SIGKILL, which runs no clean-up. Helpers it started
would then live on with parent PID 1 and pile up with every crash. `die_with_parent` makes
the kernel kill a helper when its parent dies (Linux `PR_SET_PDEATHSIG`); where that is not
available a watcher thread notices the parent is gone within a second.

Locks that outlive a crashed holder (a lease row on SQLite) need to know whether that holder is
still running. A pid alone is not enough, since pids are reused: `ProcessIdentity` adds the
host and the process's start time (the kernel's, plus the boot id), so "provably dead" means
the same host, and no process with that pid and that start time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 1.0
_PROC = Path("/proc")
_BOOT_ID = _PROC / "sys/kernel/random/boot_id"


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a helper process: it is killed as soon as `parent_pid` ends.

    `PR_SET_PDEATHSIG` fires when the thread that started this process ends, so start helpers
    from a thread that lives as long as they are needed. If the parent is already gone by the
    time this runs, the helper exits at once.
    """
    if not _set_parent_death_signal(signal.SIGKILL):
        threading.Thread(
            target=_watch_parent, args=(parent_pid,), name="parent-watch", daemon=True
        ).start()
    if os.getppid() != parent_pid:
        os._exit(1)


def forks_die_with_their_parent() -> None:
    """From now on, every process forked from this one (rq's scheduler, gunicorn's workers) is
    killed when the process that forked it dies. Call once at the start of a long-running
    command: the libraries that fork offer no hook of their own."""
    global _installed
    if _installed:
        return
    _prctl()  # looked up here, once: in a fork child the lookup would start ldconfig
    os.register_at_fork(before=_remember_forker, after_in_child=_die_with_forker)
    _installed = True


_installed = False
_forker = 0


def _remember_forker() -> None:
    global _forker
    _forker = os.getpid()


def _die_with_forker() -> None:
    die_with_parent(_forker)


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, None where there is none (not Linux)."""
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(library, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


def _set_parent_death_signal(signum: int) -> bool:
    """Ask the kernel to send `signum` when the parent dies; False where prctl is unavailable."""
    prctl = _prctl()
    return prctl is not None and prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


@dataclass(frozen=True)
class ProcessIdentity:
    """A process as another process can recognise it later: host, pid and when it started."""

    host: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> ProcessIdentity:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, process_start(pid) or "")

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"

    def provably_dead(self) -> bool:
        """True only when this host can tell: same host, and its pid is gone or now another
        process. A process on another host is never provably dead from here."""
        if self.host != socket.gethostname():
            return False
        current = process_start(self.pid)
        if current is None:
            return not _pid_exists(self.pid)
        return current != self.started


def process_start(pid: int) -> str | None:
    """The boot id and the start time of `pid` in clock ticks since boot; None without /proc or
    when the process is gone (a zombie counts as gone: it runs nothing and holds nothing)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        boot = _BOOT_ID.read_text().strip()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in {"Z", "X"}:
        return None
    return f"{boot}:{fields[19]}"


def _pid_exists(pid: int) -> bool:
    """Without /proc: whether a signal could reach `pid` (it may be another user's process)."""
    if _PROC.joinpath("self").exists():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
