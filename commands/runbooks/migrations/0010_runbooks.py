"""`/platform runbook`: runs and the approvals of their risky steps.

Revision ID: 0010_runbooks
Revises: 0001_core
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import JsonDocument, UtcDateTime

revision: str = "0010_runbooks"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runbook_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_key", sa.String(255), nullable=False),
        sa.Column("runbook", sa.String(40), nullable=False),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("params", JsonDocument, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column("thread_channel", sa.String(64), nullable=True),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("failure", sa.String(500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runbook_run")),
        sa.UniqueConstraint("request_key", name=op.f("uq_runbook_run_request_key")),
    )
    op.create_index(op.f("ix_runbook_run_runbook"), "runbook_run", ["runbook"])
    op.create_index(op.f("ix_runbook_run_requested_by"), "runbook_run", ["requested_by"])
    op.create_table(
        "runbook_approval",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runbook_run.id"],
            name=op.f("fk_runbook_approval_run_id_runbook_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runbook_approval")),
        sa.UniqueConstraint(
            "run_id", "step", "approver_id", name=op.f("uq_runbook_approval_run_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("runbook_approval")
    op.drop_index(op.f("ix_runbook_run_requested_by"), table_name="runbook_run")
    op.drop_index(op.f("ix_runbook_run_runbook"), table_name="runbook_run")
    op.drop_table("runbook_run")
