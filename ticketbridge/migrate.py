"""Schema migrations through Alembic, configured in code so operators need no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from ticketbridge.config import mask_url
from ticketbridge.errors import ConfigError
from ticketbridge.outages import DATABASE_OUTAGES, DATABASE_SETTING, database_unavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Idempotent: a database already at `revision` is left as it is."""
    command.upgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from ticketbridge.db import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


def require_head(database_url: str) -> None:
    """Refuse to run on a database whose schema is not the one this code was written for: the
    first query would otherwise fail with a driver's "no such table" deep inside a command."""
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
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
