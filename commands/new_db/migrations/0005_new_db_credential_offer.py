"""`/platform new-db`: where the Reveal offer was posted, to take its button away once used.

Revision ID: 0005_new_db_credential_offer
Revises: 0002_new_db
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_new_db_credential_offer"
down_revision: str | None = "0002_new_db"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("db_credential_drop", sa.Column("offer_channel", sa.String(64), nullable=True))
    op.add_column("db_credential_drop", sa.Column("offer_ts", sa.String(32), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite drops a column by copying the table.
    with op.batch_alter_table("db_credential_drop") as batch:
        batch.drop_column("offer_ts")
        batch.drop_column("offer_channel")
