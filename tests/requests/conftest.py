"""The request-type tests start on 2 November 2026 at 09:00 UTC, a Monday, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.requests.portal import Portal, at, portal_at
from ticketbridge.services import Services


@pytest.fixture
def portal(services: Services) -> Iterator[Portal]:
    yield from portal_at(services, at("2026-11-02 09:00"))
