"""per-ticket customer name and rate cap key

Revision ID: 286320e17b21
Revises: b7e3a91c4d20
Create Date: 2026-11-29 19:44:46.722020

Existing tickets take their customer's current name (the best there is); existing outbox rows
get the cap key of their recipient (lower case, without a +tag), computed here so that this
migration never changes when the application's code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '286320e17b21'
down_revision = 'b7e3a91c4d20'
branch_labels = None
depends_on = None


def _cap_key(address: str) -> str:
    local, at, domain = address.strip().lower().rpartition("@")
    return f"{local.partition('+')[0]}@{domain}" if at else address.strip().lower()


def upgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_key', sa.String(length=320), nullable=False, server_default=''))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_name', sa.String(length=200), nullable=False, server_default=''))

    bind = op.get_bind()
    outbox = sa.table('outbox_emails', sa.column('id', sa.Integer), sa.column('recipient', sa.String),
                      sa.column('recipient_key', sa.String))
    rows = bind.execute(sa.select(outbox.c.id, outbox.c.recipient)).all()
    if rows:
        bind.execute(
            outbox.update().where(outbox.c.id == sa.bindparam('row_id'))
            .values(recipient_key=sa.bindparam('key')),
            [{'row_id': row_id, 'key': _cap_key(recipient)} for row_id, recipient in rows],
        )
    op.execute(
        "UPDATE tickets SET customer_name = "
        "(SELECT customers.name FROM customers WHERE customers.id = tickets.customer_id)"
    )

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_emails_recipient'))
        batch_op.create_index('ix_outbox_emails_recipient_key', ['recipient_key', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('customer_name')

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_recipient_key')
        batch_op.create_index(batch_op.f('ix_outbox_emails_recipient'), ['recipient', 'next_attempt_at'], unique=False)
        batch_op.drop_column('recipient_key')
