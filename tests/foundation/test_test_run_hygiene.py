"""The test set-up itself (issue 8, item 19): a run that leaves a process behind fails, naming
it, and under CI a missing email corpus fails instead of skipping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ticketbridge.config import PROJECT_ROOT

LEAKY_TESTS = """
import subprocess
import sys


def test_forgets_its_child() -> None:
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)  # forgotten-child"])


def test_orphans_a_grandchild() -> None:
    subprocess.run(["sh", "-c", "sleep 121 &"], check=True)
"""


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
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.fixtures.processes"]\n')
    (tmp_path / "test_leaky.py").write_text(LEAKY_TESTS)
    result = run_pytest(tmp_path, "-q", "test_leaky.py")
    assert result.returncode == 1, result.stdout
    assert "2 passed" in result.stdout
    assert "2 process(es) left behind by the test run (now killed):" in result.stdout
    assert "import time; time.sleep(120)  # forgotten-child" in result.stdout
    assert "sleep 121" in result.stdout
    leftovers = subprocess.run(["pgrep", "-f", "forgotten-child|sleep 121"], capture_output=True)
    assert leftovers.stdout == b""


def test_a_clean_run_passes(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.fixtures.processes"]\n')
    (tmp_path / "test_clean.py").write_text(
        "import subprocess\n\ndef test_waits() -> None:\n    subprocess.run(['true'])\n"
    )
    result = run_pytest(tmp_path, "-q", "test_clean.py")
    assert result.returncode == 0, result.stdout


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
