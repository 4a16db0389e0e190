"""workflow timers

Revision ID: 947b9c7266c5
Revises: 59bc5ca40a4c
Create Date: 2026-11-24 07:17:18.070175
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ticketbridge.db


revision = '947b9c7266c5'
down_revision = '59bc5ca40a4c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workflow_timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('transition', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('due_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fired_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_workflow_timers_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_timers')),
    sa.UniqueConstraint('ticket_id', 'transition', 'due_at', name=op.f('uq_workflow_timers_ticket_id'))
    )
    with op.batch_alter_table('workflow_timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_timers_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_workflow_timers_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('workflow_timers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_timers_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_workflow_timers_due_at'))

    op.drop_table('workflow_timers')
