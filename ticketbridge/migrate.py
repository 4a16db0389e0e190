"""Schema migrations through Alembic, configured in code so operators need no alembic.ini.

Alembic is imported by the functions that use it: every command checks the schema at start
(`require_head`), and importing Alembic (with the dialects it loads) and each migration script
costs a second of that start. The check first compares the database's revision with the head
read from the scripts' text, and uses Alembic only when they differ, to say why.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import String, column, select, table
from sqlalchemy.exc import SQLAlchemyError

from ticketbridge.config import mask_url
from ticketbridge.errors import ConfigError
from ticketbridge.outages import DATABASE_OUTAGES, DATABASE_SETTING, database_unavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# `revision = '...'` and `down_revision = '...'` (or None) as Alembic's script template writes
# them, with or without a type annotation.
_REVISION_LINE = re.compile(
    r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:['\"]([0-9A-Za-z_]+)['\"]|None)\s*$", re.M
)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Idempotent: a database already at `revision` is left as it is."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from ticketbridge.db import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def script_head() -> str | None:
    """The head revision, read from the migration scripts' text without importing them; None
    when that text does not give exactly one (then only Alembic can tell)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in MIGRATIONS.joinpath("versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(script.read_text("utf-8")))
        if "revision" not in found or not found["revision"] or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stored_revision(database_url: str) -> str | None:
    """The database's revision with one plain query; None when that query cannot tell (no
    table yet, an outage: the full check below says which)."""
    from ticketbridge.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = list(
                connection.scalars(
                    select(column("version_num", String)).select_from(table("alembic_version"))
                )
            )
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return stored[0] if len(stored) == 1 else None


def require_head(database_url: str) -> None:
    """Refuse to run on a database whose schema is not the one this code was written for: the
    first query would otherwise fail with a driver's "no such table" deep inside a command."""
    head = script_head()
    if head is not None and _stored_revision(database_url) == head:
        return
    from alembic.script import ScriptDirectory

    try:
        revision = current(database_url)
    except DATABASE_OUTAGES as exc:
        raise database_unavailable(database_url, exc.orig or exc) from None
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    head = scripts.get_current_head()
    if revision == head:
        return
    where = f"{DATABASE_SETTING}: the database at {mask_url(database_url)}"
    if revision is None:
        problem = "has no tables yet; run `ticketbridge db upgrade`"
    elif revision in {script.revision for script in scripts.walk_revisions()}:
        problem = f"is at schema revision {revision}, not {head}; run `ticketbridge db upgrade`"
    else:
        problem = (
            f"is at schema revision {revision}, which this version does not know: a newer "
            "version migrated it, run that one"
        )
    raise ConfigError(f"{where} {problem}", field="database_url")


def revision(database_url: str, message: str) -> None:
    """For developers: write a new migration from the difference between the models and the
    database."""
    from alembic import command

    command.revision(alembic_config(database_url), message=message, autogenerate=True)
