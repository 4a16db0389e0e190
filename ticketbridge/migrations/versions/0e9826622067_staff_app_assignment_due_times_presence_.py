"""staff app: assignment, due times, presence, queue indexes

Revision ID: 0e9826622067
Revises: 286320e17b21
Create Date: 2026-11-29 19:43:02.121228
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ticketbridge.db


revision = '0e9826622067'
down_revision = '286320e17b21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_presence',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_ticket_presence_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_presence_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', 'staff_id', name=op.f('pk_ticket_presence'))
    )
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_staff_users_api_token_hash'), ['api_token_hash'])

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('due_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_state', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('due_paused_seconds', sa.Integer(), nullable=True))
        batch_op.create_index('ix_tickets_closed', ['closed_at', 'id'], unique=False, postgresql_where=sa.text('outcome IS NOT NULL'), sqlite_where=sa.text('outcome IS NOT NULL'))
        batch_op.create_index('ix_tickets_open_age', ['created_at', 'id'], unique=False, postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.create_index('ix_tickets_open_assignee', ['assignee_id', 'created_at', 'id'], unique=False, postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.create_index('ix_tickets_open_due', ['due_at', 'id'], unique=False, postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.create_index('ix_tickets_open_counts', ['request_type', 'state', 'waiting_on', 'assignee_id', 'due_at'], unique=False, postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.create_index('ix_tickets_open_state', ['state', 'created_at', 'id'], unique=False, postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.create_index('ix_tickets_open_type', ['request_type', 'created_at', 'id'], unique=False, postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.create_index('ix_tickets_open_waiting', ['waiting_on', 'created_at', 'id'], unique=False, postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_tickets_assignee_id_staff_users'), 'staff_users', ['assignee_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_assignee_id_staff_users'), type_='foreignkey')
        batch_op.drop_index('ix_tickets_open_waiting', postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.drop_index('ix_tickets_open_type', postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.drop_index('ix_tickets_open_state', postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.drop_index('ix_tickets_open_counts', postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.drop_index('ix_tickets_open_due', postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.drop_index('ix_tickets_open_assignee', postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.drop_index('ix_tickets_open_age', postgresql_where=sa.text('outcome IS NULL'), sqlite_where=sa.text('outcome IS NULL'))
        batch_op.drop_index('ix_tickets_closed', postgresql_where=sa.text('outcome IS NOT NULL'), sqlite_where=sa.text('outcome IS NOT NULL'))
        batch_op.drop_column('due_paused_seconds')
        batch_op.drop_column('due_state')
        batch_op.drop_column('due_at')
        batch_op.drop_column('assignee_id')

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_staff_users_api_token_hash'), type_='unique')
        batch_op.drop_column('api_token_hash')

    op.drop_table('ticket_presence')
