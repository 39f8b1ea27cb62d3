"""`/platform env`: environments, their resources and approvals.

Revision ID: 0006_environments
Revises: 0001_core
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import UtcDateTime

revision: str = "0006_environments"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "env_environment",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("live_name", sa.String(32), nullable=True),
        sa.Column("request_key", sa.String(255), nullable=False),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("driver", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("clone_of", sa.String(32), nullable=True),
        sa.Column("ttl_hours", sa.Float(), nullable=True),
        sa.Column("max_ttl_hours", sa.Float(), nullable=True),
        sa.Column("monthly_cost", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column("approval_channel", sa.String(64), nullable=True),
        sa.Column("approval_ts", sa.String(32), nullable=True),
        sa.Column("progress_channel", sa.String(64), nullable=True),
        sa.Column("progress_ts", sa.String(32), nullable=True),
        sa.Column("destroy_requested_by", sa.String(32), nullable=True),
        sa.Column("warned_hours", sa.Float(), nullable=True),
        sa.Column("failure", sa.String(500), nullable=True),
        sa.Column("leftovers", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("ready_at", UtcDateTime(), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("destroyed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_env_environment")),
        sa.UniqueConstraint("live_name", name=op.f("uq_env_environment_live_name")),
        sa.UniqueConstraint("request_key", name=op.f("uq_env_environment_request_key")),
    )
    for column in ("team", "requested_by", "status", "expires_at"):
        op.create_index(op.f(f"ix_env_environment_{column}"), "env_environment", [column])

    op.create_table(
        "env_resource",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("environment_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(16), nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("password_ciphertext", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["env_environment.id"],
            name=op.f("fk_env_resource_environment_id_env_environment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_env_resource")),
        sa.UniqueConstraint("environment_id", "key", name=op.f("uq_env_resource_environment_id")),
    )
    op.create_index(
        op.f("ix_env_resource_environment_id"), "env_resource", ["environment_id"]
    )

    op.create_table(
        "env_approval",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("environment_id", sa.String(32), nullable=False),
        sa.Column("approver_id", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["env_environment.id"],
            name=op.f("fk_env_approval_environment_id_env_environment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_env_approval")),
        sa.UniqueConstraint(
            "environment_id", "approver_id", name=op.f("uq_env_approval_environment_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("env_approval")
    op.drop_table("env_resource")
    op.drop_table("env_environment")
