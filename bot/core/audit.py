"""The audit log: who did what, when, with which inputs (secrets redacted), and how it ended.

`audit_record` is append-only, and the database enforces it: triggers reject every UPDATE
and DELETE (and TRUNCATE on PostgreSQL), so neither a bug nor a compromised feature can
rewrite history through the app's own connection. The same DDL is exposed through
`append_only_ddl` for the Alembic migration and installed by `create_all` in tests.

Each record is also a link of a hash chain (`bot.core.audit_chain`), so a change made
behind the bot's back (by a database superuser, or on the SQLite file) is found by
`platform-bot audit verify` (`bot.core.audit_verify`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Connection, Index, Integer, String, Table, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core.audit_chain import (
    canonical_content,
    canonical_inputs,
    chain_hash,
    next_link,
    serialise_appends,
)
from bot.core.db import Base, JsonDocument, SessionFactory, UtcDateTime, utcnow
from bot.core.redaction import redact, scrub_text

SYSTEM_ACTOR = "system"
"""The actor of records written by the scheduler and the job runner on nobody's behalf."""

DETAIL_MAX_LENGTH = 500

# BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
_Id = BigInteger().with_variant(Integer(), "sqlite")


class Outcome(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    DENIED = "denied"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class AuditRecord(Base):
    __tablename__ = "audit_record"
    # Keyed on id, the order `/platform audit` pages in (see migration 0012_audit_indexes;
    # it also adds a trigram index on target where PostgreSQL has pg_trgm).
    __table_args__ = (
        Index("ix_audit_record_actor_id", "actor", "id"),
        Index(
            "ix_audit_record_action_id",
            "action",
            "id",
            postgresql_ops={"action": "text_pattern_ops"},
        ),
        Index("ix_audit_record_outcome_id", "outcome", "id"),
        Index("ix_audit_record_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(128))
    # Stored as its string value, not a database enum: new outcomes need no migration.
    outcome: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    target: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(String(DETAIL_MAX_LENGTH))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    created_at: datetime
    actor: str
    action: str
    outcome: str
    inputs: dict[str, Any]
    idempotency_key: str | None
    target: str | None
    detail: str | None


class AuditLog:
    """Writes and reads audit records; writing is the only change it can make."""

    def __init__(self, sessions: SessionFactory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    def record(
        self,
        *,
        actor: str,
        action: str,
        outcome: Outcome,
        inputs: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        target: str | None = None,
        detail: str | None = None,
        session: Session | None = None,
    ) -> int:
        """Append one record and return its id.

        Pass `session` to write the record in the caller's transaction, so the audit
        record commits or rolls back together with the change it describes.
        """
        row = AuditRecord(
            created_at=self._clock(),
            actor=actor,
            action=action,
            outcome=str(outcome),
            inputs=canonical_inputs(redact(inputs or {})),
            idempotency_key=idempotency_key,
            target=scrub_text(target)[:255] if target is not None else None,
            detail=_short(scrub_text(detail)) if detail is not None else None,
        )
        if session is not None:
            return _append(session, row)
        with self._sessions.begin() as own:
            return _append(own, row)

    def recent(
        self, *, actor: str | None = None, action: str | None = None, limit: int = 50
    ) -> list[AuditEntry]:
        """The newest records first, optionally for one actor and/or one action.

        The read side for the tests that check what a flow recorded; people read the log
        through `/platform audit` (commands/audit), which filters and pages it.
        """
        query = select(AuditRecord).order_by(AuditRecord.created_at.desc(), AuditRecord.id.desc())
        if actor is not None:
            query = query.where(AuditRecord.actor == actor)
        if action is not None:
            query = query.where(AuditRecord.action == action)
        with self._sessions() as session:
            rows = session.scalars(query.limit(limit)).all()
            return [_entry(row) for row in rows]


def append_only_ddl(dialect_name: str) -> list[str]:
    """Statements that make `audit_record` reject UPDATE and DELETE on this backend.

    They contain no `%` and no `:name`, so they run unchanged through a DB-API cursor,
    `text()` or Alembic's `op.execute`.
    """
    if dialect_name == "postgresql":
        return [
            """CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit_record is append-only: ' || TG_OP || ' is not allowed',
        ERRCODE = 'insufficient_privilege';
END;
$$""",
            "CREATE TRIGGER audit_record_no_change BEFORE UPDATE OR DELETE ON audit_record "
            "FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()",
            "CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only()",
        ]
    if dialect_name == "sqlite":
        return [
            "CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record "
            "BEGIN SELECT RAISE(ABORT, 'audit_record is append-only: UPDATE is not allowed'); END",
            "CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record "
            "BEGIN SELECT RAISE(ABORT, 'audit_record is append-only: DELETE is not allowed'); END",
        ]
    # Refusing is safer than creating an audit table that quietly allows rewrites.
    raise ValueError(f"no append-only triggers for the {dialect_name} backend")


def drop_append_only_ddl(dialect_name: str) -> list[str]:
    """The reverse of `append_only_ddl`, for a migration's downgrade."""
    if dialect_name == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record",
            "DROP TRIGGER IF EXISTS audit_record_no_change ON audit_record",
            "DROP FUNCTION IF EXISTS audit_record_append_only()",
        ]
    if dialect_name == "sqlite":
        return [
            "DROP TRIGGER IF EXISTS audit_record_no_delete",
            "DROP TRIGGER IF EXISTS audit_record_no_update",
        ]
    raise ValueError(f"no append-only triggers for the {dialect_name} backend")


def _install_append_only(target: Table, connection: Connection, **_: Any) -> None:
    for statement in append_only_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


event.listen(AuditRecord.__table__, "after_create", _install_append_only)


def _append(session: Session, row: AuditRecord) -> int:
    """Link `row` after the last record and add it, holding the append lock until commit.

    With the caller's session the lock is held to the end of the caller's transaction:
    appends of concurrent transactions wait for each other, which keeps the chain linear
    (a record committed after a later-linked one would otherwise break it).
    """
    serialise_appends(session)
    row.id, row.prev_hash = next_link(session)
    row.hash = chain_hash(row.prev_hash, content_of(row))
    session.add(row)
    session.flush()
    return row.id


def content_of(row: AuditRecord) -> str:
    """The canonical content of a record: every column but the two hashes."""
    return canonical_content(**_columns(row))


def _columns(row: AuditRecord) -> dict[str, Any]:
    return {field.name: getattr(row, field.name) for field in fields(AuditEntry)}


def _short(text: str) -> str:
    if len(text) <= DETAIL_MAX_LENGTH:
        return text
    return text[: DETAIL_MAX_LENGTH - 1] + "…"


def _entry(row: AuditRecord) -> AuditEntry:
    return AuditEntry(**_columns(row))
