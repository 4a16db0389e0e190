"""workflow publications: the version in force per workflow is a row

Revision ID: b7e3a91c4d20
Revises: 5e1f0c2d9a47
Create Date: 2026-11-29 21:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ticketbridge.db


revision = "b7e3a91c4d20"
down_revision = "5e1f0c2d9a47"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("from_folder", sa.Boolean(), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["workflow_versions.id"],
            name=op.f("fk_workflow_publications_version_id_workflow_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_publications")),
    )
    with op.batch_alter_table("workflow_publications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_publications_name"), ["name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("workflow_publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_publications_name"))
    op.drop_table("workflow_publications")
