"""`/platform new-db`: requests, resources, approvals, one-time credentials.

Revision ID: 0002_new_db
Revises: 0001_core
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import UtcDateTime

revision: str = "0002_new_db"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "db_resource",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("active_key", sa.String(length=100), nullable=True),
        sa.Column("password_ciphertext", sa.Text(), nullable=True),
        sa.Column("vault_path", sa.String(length=255), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("ready_at", UtcDateTime(), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("warned_at", UtcDateTime(), nullable=True),
        sa.Column("dropped_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_db_resource")),
        sa.UniqueConstraint("active_key", name=op.f("uq_db_resource_active_key")),
    )
    op.create_index(op.f("ix_db_resource_expires_at"), "db_resource", ["expires_at"])
    op.create_index(op.f("ix_db_resource_owner_id"), "db_resource", ["owner_id"])
    op.create_index(op.f("ix_db_resource_team"), "db_resource", ["team"])

    op.create_table(
        "db_request",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("resource_id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("ttl_hours", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column("approval_channel", sa.String(length=64), nullable=True),
        sa.Column("approval_ts", sa.String(length=32), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("progress_channel", sa.String(length=64), nullable=True),
        sa.Column("progress_ts", sa.String(length=32), nullable=True),
        sa.Column("outcome_detail", sa.String(length=500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["db_resource.id"],
            name=op.f("fk_db_request_resource_id_db_resource"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_db_request")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_db_request_idempotency_key")),
    )
    op.create_index(op.f("ix_db_request_resource_id"), "db_request", ["resource_id"])
    op.create_index(op.f("ix_db_request_status"), "db_request", ["status"])

    op.create_table(
        "db_approval",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("approver_id", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["db_request.id"],
            name=op.f("fk_db_approval_request_id_db_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_db_approval")),
        sa.UniqueConstraint("request_id", "approver_id", name=op.f("uq_db_approval_request_id")),
    )

    op.create_table(
        "db_credential_drop",
        sa.Column("resource_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["db_resource.id"],
            name=op.f("fk_db_credential_drop_resource_id_db_resource"),
        ),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_db_credential_drop")),
    )


def downgrade() -> None:
    op.drop_table("db_credential_drop")
    op.drop_table("db_approval")
    op.drop_table("db_request")
    op.drop_table("db_resource")
