"""Lookup: the local catalog index (entities, relations, refreshes).

Revision ID: 0003_lookup
Revises: 0001_core
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import JsonDocument, UtcDateTime

revision: str = "0003_lookup"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "catalog_entity",
        sa.Column("ref", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("document", JsonDocument, nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("refreshed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_catalog_entity")),
    )
    op.create_index("ix_catalog_entity_name", "catalog_entity", ["name"])

    op.create_table(
        "catalog_relation",
        sa.Column("source_ref", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=63), nullable=False),
        sa.Column("target_ref", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("source_ref", "type", "target_ref", name=op.f("pk_catalog_relation")),
    )
    op.create_index("ix_catalog_relation_target_ref", "catalog_relation", ["target_ref"])

    op.create_table(
        "catalog_refresh",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("entity_count", sa.Integer(), nullable=False),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("problems", JsonDocument, nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_refresh")),
    )
    op.create_index("ix_catalog_refresh_status_id", "catalog_refresh", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_catalog_refresh_status_id", table_name="catalog_refresh")
    op.drop_table("catalog_refresh")
    op.drop_index("ix_catalog_relation_target_ref", table_name="catalog_relation")
    op.drop_table("catalog_relation")
    op.drop_index("ix_catalog_entity_name", table_name="catalog_entity")
    op.drop_table("catalog_entity")
