"""Audit indexes for `/platform audit`: each filter reads its own rows, newest first.

The reader pages on the record id (keyset: `id < last`, newest first), so the per-column
indexes end in `id`: a person's, an action's or an outcome's page is a backward scan of one
index that stops after a page, however many records match. They replace the (actor,
created_at) and (action, created_at) indexes, which made PostgreSQL sort every record of a
busy actor (`system`) for one page. `action` is indexed with `text_pattern_ops` on PostgreSQL
so a glob with a literal head (`action:db.*`, LIKE 'db.%') is an index range under any
collation. `created_at` serves `since:` with a rare other filter, and the stats' period.

`target:` matches inside the target (LIKE '%orders-42%'), which no B-tree serves: on
PostgreSQL a trigram index does, from the `pg_trgm` extension (trusted since PostgreSQL 13,
so the database's owner may create it). Where the extension cannot be created, the upgrade
goes on without that index and says so in the log: target searches then scan the log.

Revision ID: 0012_audit_indexes
Revises: 0011_audit_chain
Create Date: 2026-12-01
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_audit_indexes"
down_revision: str | None = "0011_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEX = "ix_audit_record_target_trgm"
logger = logging.getLogger(__name__)


def upgrade() -> None:
    op.drop_index("ix_audit_record_actor_created_at", table_name="audit_record")
    op.drop_index("ix_audit_record_action_created_at", table_name="audit_record")
    op.create_index("ix_audit_record_actor_id", "audit_record", ["actor", "id"])
    op.create_index(
        "ix_audit_record_action_id",
        "audit_record",
        ["action", "id"],
        postgresql_ops={"action": "text_pattern_ops"},
    )
    op.create_index("ix_audit_record_outcome_id", "audit_record", ["outcome", "id"])
    op.create_index("ix_audit_record_created_at", "audit_record", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        _trigram_index()


def _trigram_index() -> None:
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        logger.warning(
            "pg_trgm is not available (%s): /platform audit target: filters will scan the "
            "log; install the extension and run `platform-bot migrate` again to index them",
            type(exc.orig).__name__,
        )
        return
    savepoint.commit()
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON audit_record "
        "USING gin (target gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    op.drop_index("ix_audit_record_created_at", table_name="audit_record")
    op.drop_index("ix_audit_record_outcome_id", table_name="audit_record")
    op.drop_index("ix_audit_record_action_id", table_name="audit_record")
    op.drop_index("ix_audit_record_actor_id", table_name="audit_record")
    op.create_index("ix_audit_record_action_created_at", "audit_record", ["action", "created_at"])
    op.create_index("ix_audit_record_actor_created_at", "audit_record", ["actor", "created_at"])
