"""The test set-up itself (issue 8, item 19): a run that leaves a process behind fails, naming
it (tests/fixtures/leftovers.py); under CI a missing email corpus fails instead of skipping;
Debian packages come without their recommends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from ticketbridge.config import PROJECT_ROOT

LEAKY_TESTS = """
import os
import subprocess
import sys

PIDS = os.environ["LEAKED_PIDS"]


def test_forgets_its_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(PIDS, "a") as pids:
        pids.write(f"{child.pid}\\n")


def test_orphans_a_grandchild() -> None:
    subprocess.run(["sh", "-c", f"sleep 121 & echo $! >> {PIDS}"], check=True)
"""
PLUGINS = 'pytest_plugins = ["tests.fixtures.leftovers"]\n'


def run_pytest(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A separate pytest run with this repository's test plugins, as scripts/test.sh starts it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_a_run_that_leaves_processes_behind_fails_and_lists_them(tmp_path: Path) -> None:
    """A forgotten child and an orphaned grandchild (re-parented to init) both count."""
    (tmp_path / "conftest.py").write_text(PLUGINS)
    (tmp_path / "test_leaky.py").write_text(LEAKY_TESTS)
    pids = tmp_path / "pids"
    try:
        result = run_pytest(tmp_path, "-q", "test_leaky.py", LEAKED_PIDS=str(pids))
    finally:
        leaked = [int(line) for line in pids.read_text().split()]
        for pid in leaked:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert result.returncode == 1, result.stdout
    assert "2 passed" in result.stdout
    assert "the test run left 2 process(es) running:" in result.stderr
    for pid in leaked:
        assert f"  {pid}: " in result.stderr


def test_a_clean_run_passes(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(PLUGINS)
    (tmp_path / "test_clean.py").write_text(
        "import subprocess\n\n\ndef test_waits() -> None:\n    subprocess.run(['true'])\n"
    )
    result = run_pytest(tmp_path, "-q", "test_clean.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_under_ci_a_missing_corpus_fails_instead_of_skipping(tmp_path: Path) -> None:
    result = run_pytest(
        PROJECT_ROOT,
        "-q",
        "tests/email/test_corpus.py",
        CI="true",
        TICKETBRIDGE_EMAIL_CORPUS=str(tmp_path / "no-corpus"),
    )
    assert result.returncode == 1, result.stdout
    assert "email corpus not found at" in result.stdout
    assert "skipped" not in result.stdout


def test_the_test_script_installs_debian_packages_without_their_recommends() -> None:
    """Installing Dovecot and Chromium with their recommends pulled 120 packages."""
    lines = (PROJECT_ROOT / "scripts" / "test.sh").read_text().splitlines()
    installs = [line for line in lines if "apt-get install" in line]
    assert installs and all("--no-install-recommends" in line for line in installs)
