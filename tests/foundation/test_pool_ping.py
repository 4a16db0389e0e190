"""PostgreSQL connections are tested on checkout only after sitting idle: a connection the
server dropped meanwhile is replaced, and one used moments ago is handed out untested (a ping
per checkout cost a round trip per transaction)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ticketbridge.db import IDLE_BEFORE_PING, make_engine

pytestmark = pytest.mark.postgres


def _engine(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, list[Any]]:
    """A one-connection engine, and the connections its pool pinged."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    pinged: list[Any] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pinged.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return engine, pinged


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def _age_the_pooled_connection(engine: Engine) -> None:
    record = engine.pool._pool.queue[0]  # type: ignore[attr-defined]
    record.info["checked_in"] = time.monotonic() - IDLE_BEFORE_PING - 1


def test_an_idle_connection_the_server_dropped_is_replaced_on_checkout(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, pinged = _engine(pg_url, monkeypatch)
    dropped = _backend(engine)
    admin = make_engine(pg_url)
    with admin.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    admin.dispose()
    _age_the_pooled_connection(engine)
    assert _backend(engine) != dropped
    assert len(pinged) == 1
    engine.dispose()


def test_a_connection_used_moments_ago_is_handed_out_untested(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, pinged = _engine(pg_url, monkeypatch)
    used = _backend(engine)
    assert _backend(engine) == used and pinged == []
    _age_the_pooled_connection(engine)
    assert _backend(engine) == used and len(pinged) == 1
    engine.dispose()
