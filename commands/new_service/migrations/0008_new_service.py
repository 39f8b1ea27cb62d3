"""`/platform new-service`: the record of each request.

Revision ID: 0008_new_service
Revises: 0001_core
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import UtcDateTime

revision: str = "0008_new_service"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "svc_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(255), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("live_name", sa.String(40), nullable=True),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("repository", sa.String(500), nullable=True),
        sa.Column("failure", sa.String(1000), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_svc_request")),
        sa.UniqueConstraint("request_key", name=op.f("uq_svc_request_request_key")),
        sa.UniqueConstraint("live_name", name=op.f("uq_svc_request_live_name")),
    )
    op.create_index(op.f("ix_svc_request_requested_by"), "svc_request", ["requested_by"])
    op.create_index(op.f("ix_svc_request_status"), "svc_request", ["status"])


def downgrade() -> None:
    op.drop_table("svc_request")
