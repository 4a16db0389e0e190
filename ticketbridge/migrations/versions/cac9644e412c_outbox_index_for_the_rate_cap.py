"""outbox index for the rate cap

Revision ID: cac9644e412c
Revises: 1d69a1398555
Create Date: 2026-11-24 07:31:30.587213
"""

from __future__ import annotations

from alembic import op



revision = 'cac9644e412c'
down_revision = '1d69a1398555'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_emails_recipient', ['recipient', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_recipient')

