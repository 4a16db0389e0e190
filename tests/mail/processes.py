"""Fetcher processes for the kill tests, and the process tree a fetcher leaves (or must not)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ticketbridge.config import PROJECT_ROOT, Settings
from ticketbridge.lifeline import process_start

SETTINGS_PASSED = (
    "instance_path", "database_url", "workflows_path", "email_templates_path", "secret_key",
    "public_url", "mail_from",
    "imap_host", "imap_port", "imap_user", "imap_password", "imap_tls", "imap_batch_size",
    "imap_move_to", "imap_poll_seconds",
)  # fmt: skip


class FetcherProcesses:
    """`python -m ticketbridge mail fetch` processes configured through TICKETBRIDGE_* variables
    only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, settings: Settings, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.folder / f"fetcher-{len(self.started)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "ticketbridge", "mail", "fetch", *args],
                env=environment(settings),
                cwd=PROJECT_ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.started.append(process)
        return process, log

    def run_once(self, settings: Settings) -> None:
        """Run to the end; a hung run fails the test here and is killed by the fixture."""
        process, log = self.start(settings, "--once")
        assert process.wait(timeout=300) == 0, log.read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def environment(settings: Settings) -> dict[str, str]:
    """The developer's environment minus any TICKETBRIDGE_* variable, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TICKETBRIDGE_")}
    env.update(
        {f"TICKETBRIDGE_{name.upper()}": str(getattr(settings, name)) for name in SETTINGS_PASSED}
    )
    return env


def process_tree(root: int) -> set[int]:
    """`root` and every live process descended from it, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree = {root}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return {pid for pid in tree if process_start(pid) is not None}


def running(pids: set[int]) -> set[int]:
    """Those of `pids` still running (a zombie runs nothing and holds no memory)."""
    return {pid for pid in pids if process_start(pid) is not None}
