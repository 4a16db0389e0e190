"""customer search: trigram indexes on customers' name and email (PostgreSQL's pg_trgm)

The staff queue's search matches any part of a customer's name or email; a trigram GIN index
turns that scan of every customer into an index lookup. pg_trgm ships with PostgreSQL and is a
trusted extension (13+): the database's owner may create it. On SQLite the indexes are plain
ones, so the schema matches the models on both databases.

Revision ID: 7c3f5a2e9d14
Revises: 5e1d0c7a9b21
Create Date: 2026-11-29 23:05:00
"""

from __future__ import annotations

from alembic import op

revision = "7c3f5a2e9d14"
down_revision = "5e1d0c7a9b21"
branch_labels = None
depends_on = None

COLUMNS = ("name", "email")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(
            f"ix_customers_{column}_trigrams",
            "customers",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_customers_{column}_trigrams", table_name="customers")
