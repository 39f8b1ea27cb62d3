"""Lookup: incremental catalog refreshes (units with digests, who stated each relation).

Relations already indexed are kept, each as stated by its source; the first refresh after
the upgrade finds entities that belong to no unit and rewrites the whole index.

Revision ID: 0014_catalog_units
Revises: 0003_lookup
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import JsonDocument

revision: str = "0014_catalog_units"
down_revision: str | None = "0003_lookup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _relation_table(with_producer: bool) -> None:
    columns = [
        sa.Column("source_ref", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=63), nullable=False),
        sa.Column("target_ref", sa.String(length=300), nullable=False),
    ]
    key = ["source_ref", "type", "target_ref"]
    if with_producer:
        columns.append(sa.Column("producer", sa.String(length=300), nullable=False))
        key.append("producer")
    op.create_table(
        "catalog_relation",
        *columns,
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_catalog_relation")),
    )
    op.create_index("ix_catalog_relation_target_ref", "catalog_relation", ["target_ref"])
    if with_producer:
        op.create_index("ix_catalog_relation_producer", "catalog_relation", ["producer"])


def _replace_relation_table(*, with_producer: bool, copied: str) -> None:
    op.drop_index("ix_catalog_relation_target_ref", table_name="catalog_relation")
    op.rename_table("catalog_relation", "catalog_relation_old")
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL's constraint names are unique per schema; SQLite's are per table.
        op.execute(
            "ALTER TABLE catalog_relation_old "
            "RENAME CONSTRAINT pk_catalog_relation TO pk_catalog_relation_old"
        )
    _relation_table(with_producer)
    op.execute(f"INSERT INTO catalog_relation SELECT {copied} FROM catalog_relation_old")
    op.drop_table("catalog_relation_old")


def upgrade() -> None:
    op.create_table(
        "catalog_unit",
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("notes", JsonDocument, nullable=False),
        sa.Column("problems", JsonDocument, nullable=False),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_catalog_unit")),
    )
    with op.batch_alter_table("catalog_entity") as batch:
        batch.add_column(sa.Column("unit", sa.String(length=1000), nullable=True))
        batch.create_index("ix_catalog_entity_unit", ["unit"])
    with op.batch_alter_table("catalog_refresh") as batch:
        batch.add_column(sa.Column("previous_id", BigId, nullable=True))
        batch.add_column(sa.Column("changes", JsonDocument, nullable=True))
    _replace_relation_table(
        with_producer=True, copied="source_ref, type, target_ref, source_ref"
    )


def downgrade() -> None:
    op.drop_index("ix_catalog_relation_producer", table_name="catalog_relation")
    _replace_relation_table(with_producer=False, copied="DISTINCT source_ref, type, target_ref")
    with op.batch_alter_table("catalog_refresh") as batch:
        batch.drop_column("changes")
        batch.drop_column("previous_id")
    with op.batch_alter_table("catalog_entity") as batch:
        batch.drop_index("ix_catalog_entity_unit")
        batch.drop_column("unit")
    op.drop_table("catalog_unit")
