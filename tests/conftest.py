"""Test-suite plugins, and the rule for `slow` tests (servers started, killed and restarted).

They always run under CI and through scripts/test.sh (the README's test command); a bare
`pytest` while developing skips them, saying how to include them.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures.backends",
    "tests.fixtures.browser",
    "tests.fixtures.dovecot",
    "tests.fixtures.leftovers",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") == "true" or os.environ.get("TICKETBRIDGE_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set TICKETBRIDGE_SLOW_TESTS=1 (scripts/test.sh does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
