"""After-commit hooks run once the work that registered them is durable, and never otherwise."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import text
from sqlalchemy.orm import Session

from ticketbridge.db import Database, after_commit


def test_hooks_of_a_rolled_back_savepoint_are_dropped_and_the_others_run(db_url) -> None:
    db = Database(db_url)
    ran: list[str] = []
    with db.transaction() as session:
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("before"))
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                after_commit(session, lambda: ran.append("rolled back"))
                raise RuntimeError("poison")
        with session.begin_nested():
            after_commit(session, lambda: ran.append("released savepoint"))
        assert ran == []
    assert ran == ["before", "released savepoint"]
    db.dispose()


def test_no_hook_runs_when_the_transaction_rolls_back(db_url) -> None:
    db = Database(db_url)
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            after_commit(session, lambda: ran.append("never"))
            raise RuntimeError("fails")
    assert ran == []
    db.dispose()


@pytest.mark.postgres
def test_a_read_on_postgresql_runs_outside_a_transaction(pg_url: str) -> None:
    """No BEGIN and no COMMIT round trip: the connection is idle again after the statement."""
    db = Database(pg_url)

    def status_after_a_select(session: Session) -> TransactionStatus:
        session.execute(text("SELECT 1"))
        connection = session.connection().connection.dbapi_connection
        assert isinstance(connection, psycopg.Connection)
        return connection.info.transaction_status

    assert db.read(status_after_a_select) is TransactionStatus.IDLE
    with db.transaction() as session:
        assert status_after_a_select(session) is TransactionStatus.INTRANS
    db.dispose()


@pytest.mark.postgres
def test_a_read_on_a_connection_the_server_dropped_runs_again_on_a_fresh_one(pg_url: str) -> None:
    """Within the pool's ping window (a connection used moments ago is not tested), a read that
    meets a dropped connection is repeated on a fresh one instead of failing."""
    db = Database(pg_url)

    def backend(session: Session) -> int:
        return int(session.scalar(text("SELECT pg_backend_pid()")))

    first = db.read(backend)
    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [first])
    assert db.read(backend) != first
    db.dispose()
