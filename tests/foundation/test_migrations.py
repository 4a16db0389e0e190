"""Migrations create the schema the models describe, on SQLite and PostgreSQL, and rerun
harmlessly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

from ticketbridge.cli import main
from ticketbridge.db import Base, make_engine


def test_db_upgrade_is_idempotent_and_matches_the_models(db_url, tmp_path) -> None:
    env = {"TICKETBRIDGE_INSTANCE_PATH": str(tmp_path), "TICKETBRIDGE_DATABASE_URL": db_url}
    for _ in range(2):
        result = CliRunner().invoke(main, ["db", "upgrade"], env=env)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("database at ")
    engine = make_engine(db_url)
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert differences == []


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "worker", "db", "sweep", "workflows", "config"):
        assert f"  {command} " in result.output
