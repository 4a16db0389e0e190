"""The failures of the services a process depends on, as domain errors naming their setting.

SQLAlchemy and redis-py report an unreachable server with their own exception types and
multi-line texts; an operator needs one line saying which setting to check. The CLI (and any
other edge) turns such an exception into `ServiceUnavailable` here.
"""

from __future__ import annotations

import sys

import sqlalchemy.exc

from ticketbridge.config import ENV_PREFIX, mask_url
from ticketbridge.errors import ServiceUnavailable

DATABASE_SETTING = f"{ENV_PREFIX}DATABASE_URL"
REDIS_SETTING = f"{ENV_PREFIX}REDIS_URL"
# A database error that is about the connection (or the schema being absent), not the query.
DATABASE_OUTAGES = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)


def as_outage(
    exc: BaseException, *, database_url: str, redis_url: str
) -> ServiceUnavailable | None:
    """`exc` as the outage of the database or Redis it reports, or None if it is not one."""
    if isinstance(exc, DATABASE_OUTAGES):
        return database_unavailable(database_url, exc.orig or exc)
    if _is_redis_outage(exc):
        return ServiceUnavailable(
            f"cannot use Redis at {mask_url(redis_url)} ({first_line(exc)}); check that Redis "
            "is running there and the URL (host, port, database, password) is right",
            setting=REDIS_SETTING,
        )
    return None


def _is_redis_outage(exc: BaseException) -> bool:
    """Only a process that has imported redis-py can meet its errors, so one that has not (the
    embedded default, the mail fetcher) is spared the import: a third of a second at start."""
    exceptions = sys.modules.get("redis.exceptions")
    return exceptions is not None and isinstance(
        exc, (exceptions.ConnectionError, exceptions.TimeoutError)
    )


def database_unavailable(database_url: str, cause: BaseException) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"cannot use the database at {mask_url(database_url)} ({first_line(cause)}); check "
        "that it is running and reachable with this URL (host, port, name, user, password)",
        setting=DATABASE_SETTING,
    )


def first_line(exc: BaseException) -> str:
    """A driver's message without its hints and SQL: the first non-empty line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
