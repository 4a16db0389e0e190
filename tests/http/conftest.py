"""What the HTTP tests share: a test client of the app on the test's runtime (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ticketbridge.app import create_app
from ticketbridge.runtime import Runtime


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    return create_app(runtime=runtime).test_client()
