"""staff actors by account id: `staff:<email>` rows become `staff:<account id>`

Timeline events, ledger changes, token moves, key issues and workflow publications recorded a
staff member by their address. Rewriting each address that matches an account to that
account's id keeps the history attached to the person through a rename, a change of address or
a disabled account. Free text of earlier command-line runs matches no account and stays as it
is (it reads back as a staff actor named by that text).

Revision ID: 7c41d2e9f0a3
Revises: 7c3f5a2e9d14
Create Date: 2026-11-29 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7c41d2e9f0a3"
down_revision = "7c3f5a2e9d14"
branch_labels = None
depends_on = None

ACTOR_COLUMNS = (
    ("ticket_events", "actor"),
    ("entitlement_changes", "actor"),
    ("license_token_moves", "actor"),
    ("licenses", "license_key_issued_by"),
    ("workflow_publications", "published_by"),
)
STAFF = sa.table("staff_users", sa.column("id", sa.Integer), sa.column("email", sa.String))


def _rewrite(by_email: bool) -> None:
    """Every actor column, in one statement each: the matching account's other form."""
    by_id = "staff:" + sa.cast(STAFF.c.id, sa.String)
    by_address = "staff:" + sa.func.lower(STAFF.c.email)
    old, new = (by_id, by_address) if not by_email else (by_address, by_id)
    for table_name, column_name in ACTOR_COLUMNS:
        table = sa.table(table_name, sa.column(column_name, sa.String))
        column = table.c[column_name]
        match = sa.func.lower(column) == old if by_email else column == old
        replacement = sa.select(new).where(match).limit(1).scalar_subquery()
        op.execute(
            table.update()
            .where(column.like("staff:%"), sa.exists().where(match))
            .values({column_name: replacement})
        )


def upgrade() -> None:
    _rewrite(by_email=True)


def downgrade() -> None:
    _rewrite(by_email=False)
