"""initial schema

Revision ID: 59bc5ca40a4c
Revises: 
Create Date: 2026-11-24 07:12:44.013013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ticketbridge.db


revision = '59bc5ca40a4c'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('email', name=op.f('uq_customers_email'))
    )
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('agent', 'admin', name='staffrole', native_enum=False, length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_users_email'))
    )
    op.create_table('workflow_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('loaded_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_versions')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_workflow_versions_name'))
    )
    op.create_table('licenses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=128), nullable=False),
    sa.Column('state', sa.Enum('not_active', 'trial', 'active', 'deactivated', 'expired', 'grace', name='licensestate', native_enum=False, length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('plan', sa.String(length=64), nullable=True),
    sa.Column('had_demo', sa.Boolean(), nullable=False),
    sa.Column('activated_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('entitlements', sa.JSON(), nullable=False),
    sa.Column('created_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_licenses_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licenses')),
    sa.UniqueConstraint('token', name=op.f('uq_licenses_token'))
    )
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_type', sa.String(length=32), nullable=False),
    sa.Column('workflow_name', sa.String(length=64), nullable=False),
    sa.Column('workflow_version', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('outcome_reason', sa.Text(), nullable=True),
    sa.Column('waiting_on', sa.Enum('staff', 'customer', 'system', 'nobody', name='waitingon', native_enum=False, length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('license_id', sa.Integer(), nullable=True),
    sa.Column('form_data', sa.JSON(), nullable=False),
    sa.Column('submission_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_run_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tickets_customer_id_customers')),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], name=op.f('fk_tickets_license_id_licenses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_tickets_submission_id'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_license_id'), ['license_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_next_run_at'), ['next_run_at'], unique=False)
        batch_op.create_index('ix_tickets_queue', ['waiting_on', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_request_type'), ['request_type'], unique=False)

    op.create_table('entitlement_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('license_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=64), nullable=False),
    sa.Column('old_quantity', sa.Integer(), nullable=False),
    sa.Column('new_quantity', sa.Integer(), nullable=False),
    sa.Column('effective_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], name=op.f('fk_entitlement_changes_license_id_licenses')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_entitlement_changes_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entitlement_changes'))
    )
    with op.batch_alter_table('entitlement_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entitlement_changes_license_id'), ['license_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('in', 'out', name='direction', native_enum=False, length=16), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('in_reply_to', sa.String(length=998), nullable=True),
    sa.Column('references', sa.Text(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('from_address', sa.String(length=320), nullable=False),
    sa.Column('to_addresses', sa.Text(), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('created_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_messages_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('message_id', name=op.f('uq_messages_message_id'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_events_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('outbox_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', name='outboxstatus', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_outbox_emails_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_emails')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_emails_message_id'))
    )
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_emails_due', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_due')

    op.drop_table('outbox_emails')
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_events_ticket_id'))

    op.drop_table('ticket_events')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_ticket_id'))

    op.drop_table('messages')
    with op.batch_alter_table('entitlement_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entitlement_changes_license_id'))

    op.drop_table('entitlement_changes')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_request_type'))
        batch_op.drop_index('ix_tickets_queue')
        batch_op.drop_index(batch_op.f('ix_tickets_next_run_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_license_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_customer_id'))

    op.drop_table('tickets')
    op.drop_table('licenses')
    op.drop_table('workflow_versions')
    op.drop_table('staff_users')
    op.drop_table('customers')
