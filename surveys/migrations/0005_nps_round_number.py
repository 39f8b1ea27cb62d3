"""NPS rounds are numbered within their campaign (round 1, 2, … of each campaign).

Existing rounds are numbered in the order they were opened. The column is added with a
default so SQLite can add it in place: rebuilding `nps_round` there would drop the table
its deliveries and answers reference (ON DELETE CASCADE) while foreign keys are enforced.
PostgreSQL drops the default afterwards; on SQLite it stays and is never used, since every
round is inserted with its number.

Revision ID: 0005_nps_round_number
Revises: 0004_surveys
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_nps_round_number"
down_revision: str | None = "0004_surveys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "nps_round", sa.Column("number", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(
        "UPDATE nps_round SET number = (SELECT COUNT(*) FROM nps_round AS earlier "
        "WHERE earlier.campaign = nps_round.campaign AND earlier.id <= nps_round.id)"
    )
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("nps_round", "number", server_default=None)
    op.create_index(
        "ix_nps_round_campaign_number", "nps_round", ["campaign", "number"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_nps_round_campaign_number", table_name="nps_round")
    op.drop_column("nps_round", "number")  # in place on SQLite 3.35+, no rebuild
