"""Every action leaves a record; records keep no secrets and can never be changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, text, update
from sqlalchemy.exc import DBAPIError

from bot.core.audit import SYSTEM_ACTOR, AuditLog, AuditRecord, Outcome, append_only_ddl
from bot.core.db import SessionFactory
from tests.clock import Clock


@pytest.fixture
def audit(sessions: SessionFactory) -> AuditLog:
    return AuditLog(sessions, clock=Clock(tick=timedelta(seconds=1)))


def test_a_record_keeps_who_what_and_outcome_with_secrets_redacted(audit: AuditLog) -> None:
    record_id = audit.record(
        actor="UADA",
        action="db.create",
        outcome=Outcome.SUCCEEDED,
        inputs={"name": "orders", "password": "hunter22", "dsn": "postgresql://a:b@h/db"},
        idempotency_key="command:123.456",
        target="orders",
        detail="created; connect with postgresql://orders:Sup3rS3cret@db:5432/orders",
    )
    [entry] = audit.recent()
    assert entry.id == record_id
    assert (entry.actor, entry.action, entry.outcome) == ("UADA", "db.create", "succeeded")
    assert entry.inputs == {"name": "orders", "password": "[redacted]", "dsn": "[redacted]"}
    assert (entry.idempotency_key, entry.target) == ("command:123.456", "orders")
    assert entry.detail is not None and "Sup3rS3cret" not in entry.detail
    assert entry.created_at == datetime(2026, 3, 1, 9, 0, 1, tzinfo=UTC)


def test_recent_filters_by_actor_and_action_newest_first(audit: AuditLog) -> None:
    audit.record(actor="UADA", action="db.create", outcome=Outcome.REQUESTED)
    audit.record(actor="UBOB", action="db.create", outcome=Outcome.DENIED)
    audit.record(actor="UADA", action="env.delete", outcome=Outcome.SUCCEEDED)
    audit.record(actor=SYSTEM_ACTOR, action="env.expire", outcome=Outcome.SUCCEEDED)
    assert [e.action for e in audit.recent(actor="UADA")] == ["env.delete", "db.create"]
    assert [e.actor for e in audit.recent(action="db.create")] == ["UBOB", "UADA"]
    assert [e.outcome for e in audit.recent(actor="UADA", action="db.create")] == ["requested"]
    assert len(audit.recent(limit=2)) == 2


def test_a_record_written_in_the_callers_transaction_rolls_back_with_it(
    audit: AuditLog, sessions: SessionFactory
) -> None:
    with sessions() as session:
        audit.record(actor="UADA", action="db.create", outcome=Outcome.FAILED, session=session)
        session.rollback()
    assert audit.recent() == []
    with sessions.begin() as session:
        audit.record(actor="UADA", action="db.create", outcome=Outcome.FAILED, session=session)
    assert [entry.outcome for entry in audit.recent()] == ["failed"]


def test_long_details_are_shortened(audit: AuditLog) -> None:
    audit.record(actor="UADA", action="x", outcome=Outcome.FAILED, detail="e" * 2000)
    [entry] = audit.recent()
    assert entry.detail is not None and len(entry.detail) == 500 and entry.detail.endswith("…")


def test_the_database_refuses_to_update_or_delete_records(
    audit: AuditLog, sessions: SessionFactory
) -> None:
    audit.record(actor="UADA", action="db.create", outcome=Outcome.SUCCEEDED)
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(update(AuditRecord).values(outcome="failed"))
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(delete(AuditRecord))
    [entry] = audit.recent()
    assert entry.outcome == "succeeded"


@pytest.mark.postgres
def test_postgres_also_refuses_truncate(pg_engine: Engine) -> None:
    with pytest.raises(DBAPIError, match="append-only"), pg_engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_record"))


def test_the_ddl_exists_only_for_supported_backends() -> None:
    assert len(append_only_ddl("sqlite")) == 2
    assert len(append_only_ddl("postgresql")) == 3
    with pytest.raises(ValueError, match="mysql"):
        append_only_ddl("mysql")
