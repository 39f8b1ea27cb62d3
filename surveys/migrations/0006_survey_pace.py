"""One chat.postMessage pace per workspace, shared by every replica (`surveys.pace`).

Revision ID: 0006_survey_pace
Revises: 0005_nps_round_number
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_survey_pace"
down_revision: str | None = "0005_nps_round_number"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_pace",
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("last_grant", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("method", name=op.f("pk_survey_pace")),
    )


def downgrade() -> None:
    op.drop_table("survey_pace")
