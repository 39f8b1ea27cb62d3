"""`/platform env`: where an orchestrator's run or object is, to follow it after a crash.

Revision ID: 0007_environment_handles
Revises: 0006_environments
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_environment_handles"
down_revision: str | None = "0006_environments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("env_resource", sa.Column("handle", sa.Text(), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite drops a column by copying the table.
    with op.batch_alter_table("env_resource") as batch:
        batch.drop_column("handle")
