"""admin runs: the progress and result of replays and migrations run outside the request

Revision ID: 328bccecb944
Revises: 7c41d2e9f0a3
Create Date: 2026-11-29 23:14:21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ticketbridge.db

revision = "328bccecb944"
down_revision = "7c41d2e9f0a3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_name", sa.String(length=64), nullable=False),
        sa.Column(
            "phase",
            sa.Enum("replay", "preview", "apply", name="runphase", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("running", "finished", "failed", name="runstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("confirmed_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ticketbridge.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_runs")),
    )


def downgrade() -> None:
    op.drop_table("admin_runs")
