"""usage reports count AI conversations

Revision ID: 1d69a1398555
Revises: 8ae69cf1ea1a
Create Date: 2026-11-24 07:31:09.129420
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op



revision = '1d69a1398555'
down_revision = '8ae69cf1ea1a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('license_usage_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ai_conversations', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table('license_usage_reports', schema=None) as batch_op:
        batch_op.drop_column('ai_conversations')

