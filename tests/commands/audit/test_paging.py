"""Paging `/platform audit` on a migrated database, SQLite and PostgreSQL (with the indexes of
0012_audit_indexes, the trigram one included where pg_trgm is): walking older pages and back
gives exactly the matching records, newest first, whichever index the planner picks."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text

from bot.core.audit import AuditLog, AuditRecord, Outcome
from bot.core.db import SessionFactory, make_session_factory
from bot.runtime.schema import upgrade
from commands.audit.service.filters import Directory, parse_filters
from commands.audit.service.query import PAGE_SIZE, AuditReader
from tests.clock import START, Clock

PEOPLE = ["U0BOB", "U0ALICE", "U0CAROL", "system"]
ACTIONS = ["db.create", "db.drop", "env.create", "env.clone", "runbook.run", "dbXcreate"]
OUTCOMES = [Outcome.REQUESTED, Outcome.SUCCEEDED, Outcome.FAILED, Outcome.EXPIRED]
RECORDS = 240
NOW = START + timedelta(hours=RECORDS)  # the clock ticks an hour per record, then stops
DIRECTORY = Directory(
    user_named=lambda _name: None,
    teams=("payments",),
    team_members=lambda _team: ["U0ALICE", "U0CAROL"],
)


@pytest.fixture
def seeded(empty_engine: Engine) -> tuple[AuditReader, SessionFactory]:
    upgrade(empty_engine)
    sessions = make_session_factory(empty_engine)
    clock = Clock(START, tick=timedelta(hours=1))
    log = AuditLog(sessions, clock=clock)
    for n in range(RECORDS):
        action = ACTIONS[(n * 7) % len(ACTIONS)]
        log.record(
            actor=PEOPLE[n % len(PEOPLE)],
            action=action,
            outcome=OUTCOMES[(n // 3) % len(OUTCOMES)],
            target=f"{action.split('.')[0]}:orders-{n % 13}",
        )
    clock.tick = timedelta(0)
    assert clock() == NOW
    return AuditReader(sessions=sessions, clock=clock), sessions


def _walk(reader: AuditReader, filters: str) -> list[int]:
    """Every page, oldest-ward, then back newer-ward to the first: the ids, newest first."""
    where = parse_filters(filters.split(), DIRECTORY, reader.now())
    pages = [reader.page(where)]
    assert not pages[0].has_newer
    while pages[-1].has_older:
        pages.append(reader.page(where, older_than=pages[-1].records[-1].id))
        assert pages[-1].has_newer and 0 < len(pages[-1].records) <= PAGE_SIZE
    back = [pages[-1]]
    while back[-1].has_newer and back[-1].records:
        back.append(reader.page(where, newer_than=back[-1].records[0].id))
    ids = [r.id for page in pages for r in page.records]
    assert [r.id for page in reversed(back) for r in page.records] == ids
    return ids


CASES: list[tuple[str, Callable[[AuditRecord], bool]]] = [
    ("", lambda r: True),
    ("user:U0BOB", lambda r: r.actor == "U0BOB"),
    ("user:system outcome:failed", lambda r: r.actor == "system" and r.outcome == "failed"),
    ("team:payments", lambda r: r.actor in ("U0ALICE", "U0CAROL")),
    ("action:db.*", lambda r: r.action.startswith("db.")),
    ("action:env.clone", lambda r: r.action == "env.clone"),
    ("action:db?create", lambda r: fnmatch.fnmatchcase(r.action, "db?create")),
    ("target:orders-12", lambda r: "orders-12" in (r.target or "")),
    ("target:env:*", lambda r: (r.target or "").startswith("env:")),
    ("outcome:expired", lambda r: r.outcome == "expired"),
    ("since:1d", lambda r: r.created_at >= NOW - timedelta(days=1)),
    (
        "action:db.* outcome:requested since:4d",
        lambda r: (
            r.action.startswith("db.")
            and r.outcome == "requested"
            and r.created_at >= NOW - timedelta(days=4)
        ),
    ),
]


def test_pages_hold_exactly_the_matching_records_newest_first(
    seeded: tuple[AuditReader, SessionFactory],
) -> None:
    # One seeded database for every filter: seeding is most of the time.
    reader, sessions = seeded
    with sessions() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).all()
    for filters, keep in CASES:
        expected = [r.id for r in rows if keep(r)]
        # More than a page each, so paging is crossed, and a filter that drops rows shows.
        assert len(expected) > PAGE_SIZE, filters
        assert _walk(reader, filters) == expected, filters


@pytest.mark.postgres
@pytest.mark.parametrize("empty_engine", ["postgres"], indirect=True)
def test_postgres_gets_the_trigram_index_for_targets(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        indexes = set(
            connection.scalars(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_record'")
            )
        )
    assert {
        "ix_audit_record_actor_id",
        "ix_audit_record_action_id",
        "ix_audit_record_outcome_id",
        "ix_audit_record_created_at",
        "ix_audit_record_target_trgm",
    } <= indexes
