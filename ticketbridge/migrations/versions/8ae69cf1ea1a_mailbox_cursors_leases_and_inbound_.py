"""mailbox cursors, leases and inbound emails

Revision ID: 8ae69cf1ea1a
Revises: 3ad6ec653341
Create Date: 2026-11-24 07:18:04.552123
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ticketbridge.db


revision = '8ae69cf1ea1a'
down_revision = '3ad6ec653341'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mailbox_folders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('folder', sa.String(length=200), nullable=False),
    sa.Column('uidvalidity', sa.Integer(), nullable=False),
    sa.Column('last_uid', sa.Integer(), nullable=False),
    sa.Column('updated_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_folders')),
    sa.UniqueConstraint('mailbox', 'folder', name=op.f('uq_mailbox_folders_mailbox'))
    )
    op.create_table('mailbox_leases',
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('mailbox', name=op.f('pk_mailbox_leases'))
    )
    op.create_table('inbound_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('folder', sa.String(length=200), nullable=False),
    sa.Column('uid', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=1000), nullable=False),
    sa.Column('header_message_id', sa.String(length=998), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('stored', 'duplicate', 'ignored', 'quarantined', name='inboundstatus', native_enum=False, length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('message_row_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_row_id'], ['messages.id'], name=op.f('fk_inbound_emails_message_row_id_messages')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_inbound_emails_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_emails')),
    sa.UniqueConstraint('mailbox', 'dedupe_key', name=op.f('uq_inbound_emails_mailbox'))
    )
    with op.batch_alter_table('inbound_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_emails_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_emails_header_message_id'), ['header_message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_emails_message_row_id'), ['message_row_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_emails_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inbound_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_emails_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_emails_message_row_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_emails_header_message_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_emails_content_hash'))

    op.drop_table('inbound_emails')
    op.drop_table('mailbox_leases')
    op.drop_table('mailbox_folders')
