"""mailbox lease holder process, inbound uidvalidity

Revision ID: 5e1f0c2d9a47
Revises: cac9644e412c
Create Date: 2026-11-29 20:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5e1f0c2d9a47"
down_revision = "cac9644e412c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailbox_leases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("host", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("process_started", sa.String(length=80), nullable=False, server_default="")
        )
    with op.batch_alter_table("inbound_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uidvalidity", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_emails", schema=None) as batch_op:
        batch_op.drop_column("uidvalidity")
    with op.batch_alter_table("mailbox_leases", schema=None) as batch_op:
        batch_op.drop_column("process_started")
        batch_op.drop_column("pid")
        batch_op.drop_column("host")
