"""The request-type tests start on 2 November 2026 at 09:00 UTC, a Monday, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.requests.portal import Portal, at, portal_at
from ticketbridge.runtime import Runtime


@pytest.fixture
def portal(runtime: Runtime) -> Iterator[Portal]:
    yield from portal_at(runtime, at("2026-11-02 09:00"))
