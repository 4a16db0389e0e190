"""Database plumbing: the declarative base, engines, and the one way to run a transaction.

Services only flush; the request or the job that owns the unit of work commits through
`Database.transaction()`. Work that must happen only once the data is durable (enqueueing a
job) is registered with `after_commit`, so a rolled-back transaction never leaks a job.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.types import TypeDecorator

from ticketbridge.config import create_sqlite_file

log = logging.getLogger(__name__)
Read = TypeVar("Read")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use ticketbridge.clock.utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        create_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, **kwargs)
    event.listen(engine.pool, "checkin", _note_checkin)
    event.listen(engine.pool, "checkout", partial(_ping_if_idle, engine))
    return engine


IDLE_BEFORE_PING = 10.0
"""Seconds a pooled PostgreSQL connection may sit unused before it is tested on checkout."""


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Test a connection that sat idle in the pool before handing it out: a restarted server or
    a dropped link left it dead, and a fresh one is made instead (the pool retries on
    DisconnectionError). A connection used moments ago is handed out untested: pinging every
    checkout cost a round trip per transaction (three per staff page). Should the server go away
    within that window, the first statement fails as a disconnect, which answers 503 and
    discards the whole pool, so only that request sees it."""
    checked_in = record.info.get("checked_in")
    if checked_in is None or time.monotonic() - checked_in < IDLE_BEFORE_PING:
        return  # just made, or just used
    try:
        engine.dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock at BEGIN so two writers queue instead of failing mid-transaction."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An engine and its session factory, created once per process (app, worker, CLI)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # What `read` uses: the same pool, each statement committing on its own.
        self._reader = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.is_postgresql
            else None
        )

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception, then run after-commit
        hooks."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            hooks = [hook for _, hook in session.info.pop("after_commit", [])]
            committed = session.info.pop("committed", False)
            session.close()
        if committed:
            for hook in hooks:
                _run_after_commit(hook)

    def read(self, query: Callable[[Session], Read]) -> Read:
        """What `query` reads, outside any transaction on PostgreSQL: each statement sees what
        was committed when it started, and `query` must not write.

        For a hot read of one statement (the sync API's poll), where round trips to the
        server are most of the cost: no BEGIN and no COMMIT. A read that meets a connection the
        server dropped (a restart within the pool's ping window) runs once more on a fresh one:
        a read can be repeated, a write could not. SQLite, with no round trips to save, reads
        in a transaction."""
        if self._reader is None:
            with self.transaction() as session:
                return query(session)
        try:
            return _read_once(self._reader, query)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        return _read_once(self._reader, query)

    def dispose(self) -> None:
        self.engine.dispose()


def _read_once(engine: Engine, query: Callable[[Session], Read]) -> Read:
    with Session(engine, autoflush=False, expire_on_commit=False) as session:
        return query(session)


def _run_after_commit(hook: Callable[[], None]) -> None:
    """The work is committed whatever a hook does next: a hook that fails (Redis down while
    enqueueing) is logged, and the sweeper re-drives what the database says is due. Raising
    would tell a customer whose request was stored that it was not."""
    try:
        hook()
    except Exception:
        log.exception("after-commit hook failed; the sweeper will pick the work up")


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` once the session's transaction has committed; never if the work that
    registered it is rolled back, be it the whole transaction or only the savepoint it ran in."""
    scope = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault("after_commit", []).append((scope, hook))


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    session.info["committed"] = True


@event.listens_for(Session, "after_soft_rollback")
def _drop_hooks(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back savepoint drops the hooks registered inside it and keeps the others."""
    if not session.is_active:
        session.info.pop("after_commit", None)
        return
    kept = [
        (scope, hook)
        for scope, hook in session.info.get("after_commit", [])
        if not _inside(scope, previous_transaction)
    ]
    session.info["after_commit"] = kept


def _inside(scope: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while scope is not None:
        if scope is ended:
            return True
        scope = scope.parent
    return False


def str_enum(kind: type[enum.StrEnum]) -> Enum:
    """Store an enum by its value (what humans and SQL reports read), as a plain string column."""
    return Enum(
        kind,
        native_enum=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )
