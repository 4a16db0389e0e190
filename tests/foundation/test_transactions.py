"""After-commit hooks run once the work that registered them is durable, and never otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import text

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
