"""Migrations build exactly the schema the models declare, on both backends."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

import bot.runtime.models
from bot.core.audit import AuditLog, Outcome
from bot.core.audit_verify import verify_chain
from bot.core.db import make_session_factory
from bot.runtime.schema import (
    SchemaOutOfDate,
    alembic_config,
    head_revisions,
    packaged_heads,
    require_up_to_date,
    schema_status,
    upgrade,
)


def test_an_empty_database_is_out_of_date(empty_engine: Engine) -> None:
    status = schema_status(empty_engine)
    assert status.current == frozenset()
    with pytest.raises(SchemaOutOfDate, match="run `platform-bot migrate` first"):
        require_up_to_date(empty_engine)


def _not_full_text_index(name: str | None, type_: str, _parents: object) -> bool:
    """The docs search index is dialect-specific DDL the models cannot declare (an FTS5
    virtual table and its shadow tables on SQLite, a tsvector table on PostgreSQL): it is
    made by the 0009_docs migration only, so the comparison leaves exactly those out. So is
    the audit log's trigram index on target (PostgreSQL with pg_trgm, 0012_audit_indexes)."""
    if type_ == "index" and name == "ix_audit_record_target_trgm":
        return False
    return not (type_ == "table" and name is not None and name.startswith("docs_search"))


def test_migrations_create_what_the_models_declare(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _not_full_text_index}
        )
        differences = compare_metadata(context, bot.runtime.models.Base.metadata)
    assert differences == []
    assert schema_status(empty_engine).current == head_revisions()
    require_up_to_date(empty_engine)


def test_upgrade_is_idempotent(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    before = upgrade(empty_engine)
    assert before.up_to_date
    assert "job" in inspect(empty_engine).get_table_names()


def test_the_migrated_audit_log_is_append_only(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_record (created_at, actor, action, outcome, inputs, "
                "prev_hash, hash) VALUES (CURRENT_TIMESTAMP, 'U1', 'db.create', 'requested', "
                "'{}', 'p', 'h')"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), empty_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_record"))


def test_the_chain_migration_links_the_records_written_before_it(empty_engine: Engine) -> None:
    config = alembic_config()
    with empty_engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001_core")
        connection.commit()
    with empty_engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_record (created_at, actor, action, outcome, inputs, target) "
                    "VALUES (CURRENT_TIMESTAMP, :actor, 'db.create', 'requested', :inputs, NULL)"
                ),
                {"actor": f"U{n}", "inputs": f'{{"n": {n}, "name": "x"}}'},
            )
    upgrade(empty_engine)
    sessions = make_session_factory(empty_engine)
    AuditLog(sessions).record(actor="U9", action="db.create", outcome=Outcome.SUCCEEDED)
    report = verify_chain(sessions)
    assert report.intact and report.checked == 4
    with pytest.raises(DBAPIError, match="append-only"), empty_engine.begin() as connection:
        connection.execute(text("UPDATE audit_record SET actor = 'UEVE'"))


def test_the_check_serve_makes_finds_the_heads_alembic_finds() -> None:
    assert packaged_heads() == head_revisions()
