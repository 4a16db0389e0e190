"""license tokens are not case-sensitive: one license per token whatever its case

Revision ID: 5e1d0c7a9b21
Revises: 2c6ae8d122b9
Create Date: 2026-11-29 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5e1d0c7a9b21"
down_revision = "2c6ae8d122b9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_licenses_token_lower", "licenses", [sa.func.lower(sa.column("token"))], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_licenses_token_lower", table_name="licenses")
