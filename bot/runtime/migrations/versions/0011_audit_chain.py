"""Audit chain: each audit record carries its hash and the previous record's hash.

Records written before this revision are linked here, in id order, so the whole log is
one chain. The append-only triggers are lifted for the backfill and put back after it, in
the same transaction (a failed upgrade leaves the log as it was).

Revision ID: 0011_audit_chain
Revises: 0001_core
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from bot.core.audit import AuditRecord, append_only_ddl, content_of, drop_append_only_ddl
from bot.core.audit_chain import GENESIS, chain_hash

revision: str = "0011_audit_chain"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_append_only_ddl(dialect):
        op.execute(statement)
    with op.batch_alter_table("audit_record") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _link_existing_records()
    with op.batch_alter_table("audit_record") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    for statement in append_only_ddl(dialect):
        op.execute(statement)


def _link_existing_records() -> None:
    session = Session(bind=op.get_bind())
    table = AuditRecord.__table__
    prev, after = GENESIS, 0
    while True:
        # Only the columns of revision 0001 are read, through the model, for content_of.
        rows = session.scalars(
            sa.select(AuditRecord).where(AuditRecord.id > after).order_by(AuditRecord.id)
            .limit(_BATCH)
        ).all()
        for row in rows:
            digest = chain_hash(prev, content_of(row))
            session.execute(
                table.update().where(table.c.id == row.id).values(prev_hash=prev, hash=digest)
            )
            prev = digest
        if len(rows) < _BATCH:
            break
        after = rows[-1].id
        session.expunge_all()
    session.flush()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_append_only_ddl(dialect):
        op.execute(statement)
    with op.batch_alter_table("audit_record") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    for statement in append_only_ddl(dialect):
        op.execute(statement)
