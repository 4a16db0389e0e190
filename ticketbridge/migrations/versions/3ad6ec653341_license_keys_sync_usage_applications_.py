"""license keys sync usage applications token moves

Revision ID: 3ad6ec653341
Revises: 947b9c7266c5
Create Date: 2026-11-24 07:17:51.334982
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ticketbridge.db


revision = '3ad6ec653341'
down_revision = '947b9c7266c5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('license_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('license_id', sa.Integer(), nullable=False),
    sa.Column('app', sa.String(length=64), nullable=False),
    sa.Column('subscribed_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state', sa.Enum('active', 'suspended', name='appstate', native_enum=False, length=16), nullable=False),
    sa.Column('updated_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], name=op.f('fk_license_applications_license_id_licenses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_license_applications')),
    sa.UniqueConstraint('license_id', 'app', name=op.f('uq_license_applications_license_id'))
    )
    with op.batch_alter_table('license_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_license_applications_license_id'), ['license_id'], unique=False)

    op.create_table('license_usage_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('license_id', sa.Integer(), nullable=False),
    sa.Column('reported_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('concurrent_agents', sa.Integer(), nullable=False),
    sa.Column('webphone_sessions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], name=op.f('fk_license_usage_reports_license_id_licenses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_license_usage_reports'))
    )
    with op.batch_alter_table('license_usage_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_license_usage_reports_license_id'), ['license_id'], unique=False)

    op.create_table('license_token_moves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('license_id', sa.Integer(), nullable=False),
    sa.Column('old_token', sa.String(length=128), nullable=False),
    sa.Column('new_token', sa.String(length=128), nullable=False),
    sa.Column('moved_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], name=op.f('fk_license_token_moves_license_id_licenses')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_license_token_moves_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_license_token_moves'))
    )
    with op.batch_alter_table('license_token_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_license_token_moves_license_id'), ['license_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_license_token_moves_old_token'), ['old_token'], unique=False)

    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_plan', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('billing_frequency', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('paid_since', ticketbridge.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('billing_ends_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('client_key', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('hash_key', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('license_key', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('license_key_issued_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('license_key_issued_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('sync_secret_hash', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_column('sync_secret_hash')
        batch_op.drop_column('license_key_issued_by')
        batch_op.drop_column('license_key_issued_at')
        batch_op.drop_column('license_key')
        batch_op.drop_column('hash_key')
        batch_op.drop_column('client_key')
        batch_op.drop_column('billing_ends_on')
        batch_op.drop_column('paid_since')
        batch_op.drop_column('billing_frequency')
        batch_op.drop_column('support_plan')

    with op.batch_alter_table('license_token_moves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_license_token_moves_old_token'))
        batch_op.drop_index(batch_op.f('ix_license_token_moves_license_id'))

    op.drop_table('license_token_moves')
    with op.batch_alter_table('license_usage_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_license_usage_reports_license_id'))

    op.drop_table('license_usage_reports')
    with op.batch_alter_table('license_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_license_applications_license_id'))

    op.drop_table('license_applications')
