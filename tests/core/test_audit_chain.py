"""The audit log's hash chain: intact logs pass, edits behind the bot's back are named."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from bot.core.audit import AuditLog, AuditRecord, Outcome, append_only_ddl, drop_append_only_ddl
from bot.core.audit_chain import GENESIS
from bot.core.audit_verify import Break, verify_chain
from bot.core.db import SessionFactory, make_session_factory
from tests.clock import Clock


@pytest.fixture
def audit(sessions: SessionFactory, clock: Clock) -> AuditLog:
    return AuditLog(sessions, clock=clock)


def _fill(audit: AuditLog, clock: Clock, count: int) -> list[int]:
    ids = []
    for n in range(count):
        clock.advance(timedelta(seconds=1))
        ids.append(
            audit.record(
                actor=f"U{n}",
                action="db.create",
                outcome=Outcome.SUCCEEDED,
                inputs={"name": f"orders{n}", "size": n, "nested": {"b": 1, "a": [1, "x"]}},
                target=f"db/orders{n}",
                detail="ünïcode ok",
            )
        )
    return ids


def _behind_the_bots_back(engine: Engine, statement: str) -> None:
    """Run `statement` as the database owner would, with the append-only triggers lifted."""
    dialect = engine.dialect.name
    with engine.begin() as connection:
        for ddl in drop_append_only_ddl(dialect):
            connection.exec_driver_sql(ddl)
        connection.exec_driver_sql(statement)
        for ddl in append_only_ddl(dialect):
            connection.exec_driver_sql(ddl)


def test_an_empty_log_and_an_intact_log_pass(
    audit: AuditLog, sessions: SessionFactory, clock: Clock
) -> None:
    assert verify_chain(sessions).intact
    assert verify_chain(sessions).head == GENESIS
    _fill(audit, clock, 5)
    report = verify_chain(sessions)
    assert report.intact and report.checked == 5 and report.head != GENESIS


def test_records_link_to_the_one_before(
    audit: AuditLog, sessions: SessionFactory, clock: Clock
) -> None:
    _fill(audit, clock, 3)
    with sessions() as session:
        rows = session.query(AuditRecord).order_by(AuditRecord.id).all()
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


TAMPERING = [
    # (what is done to the 3rd of 5 records, the record verify names, why)
    ("UPDATE audit_record SET outcome = 'failed' WHERE id = {id}", 2, Break.CONTENT_CHANGED),
    ("UPDATE audit_record SET inputs = '{{}}' WHERE id = {id}", 2, Break.CONTENT_CHANGED),
    ("DELETE FROM audit_record WHERE id = {id}", 3, Break.LINK_BROKEN),
    # Its own hash recomputed (here: replaced) still differs from the next record's link.
    ("UPDATE audit_record SET hash = '" + "f" * 64 + "' WHERE id = {id}", 2, Break.CONTENT_CHANGED),
    ("UPDATE audit_record SET id = id + 100 WHERE id = {id}", 3, Break.LINK_BROKEN),
]


@pytest.mark.parametrize(("statement", "named", "reason"), TAMPERING)
def test_a_change_behind_the_bots_back_names_the_first_broken_record(
    audit: AuditLog,
    sessions: SessionFactory,
    clock: Clock,
    engine: Engine,
    statement: str,
    named: int,
    reason: Break,
) -> None:
    ids = _fill(audit, clock, 5)
    _behind_the_bots_back(engine, statement.format(id=ids[2]))
    report = verify_chain(sessions)
    assert report.broken is not None
    assert (report.broken.id, report.broken.reason) == (ids[named], reason)
    assert report.checked == 2  # the two records before the tampered one
    assert report.broken.describe().startswith(f"record {ids[named]} (")


def test_the_chain_spans_batches(
    audit: AuditLog, sessions: SessionFactory, clock: Clock, engine: Engine
) -> None:
    ids = _fill(audit, clock, 1005)
    assert verify_chain(sessions).checked == 1005
    _behind_the_bots_back(engine, f"UPDATE audit_record SET actor = 'UEVE' WHERE id = {ids[1003]}")
    broken = verify_chain(sessions).broken
    assert broken is not None and broken.id == ids[1003]


def test_a_record_in_a_rolled_back_transaction_leaves_the_chain_intact(
    audit: AuditLog, sessions: SessionFactory, clock: Clock
) -> None:
    _fill(audit, clock, 2)
    with pytest.raises(RuntimeError), sessions.begin() as session:
        audit.record(actor="UADA", action="x", outcome=Outcome.FAILED, session=session)
        raise RuntimeError
    _fill(audit, clock, 2)
    assert verify_chain(sessions).intact


def _append_concurrently(engine: Engine, threads: int, each: int) -> None:
    log = AuditLog(make_session_factory(engine))
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def append(n: int) -> None:
        start.wait()
        try:
            for i in range(each):
                log.record(
                    actor=f"U{n}", action="db.create", outcome=Outcome.REQUESTED, inputs={"i": i}
                )
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            failures.append(exc)

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []


def test_concurrent_appends_on_sqlite_keep_one_chain(sqlite_engine: Engine) -> None:
    _append_concurrently(sqlite_engine, threads=4, each=15)
    report = verify_chain(make_session_factory(sqlite_engine))
    assert report.intact and report.checked == 60


@pytest.mark.postgres
def test_concurrent_appends_on_postgres_keep_one_chain(pg_engine: Engine) -> None:
    _append_concurrently(pg_engine, threads=8, each=25)
    report = verify_chain(make_session_factory(pg_engine))
    assert report.intact and report.checked == 200
    with pg_engine.connect() as connection:
        assert (
            connection.execute(text("SELECT count(DISTINCT prev_hash) FROM audit_record")).scalar()
            == 200
        )
