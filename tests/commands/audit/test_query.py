"""The audit reader on both backends: each filter returns exactly the rows it describes."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.core.audit import AuditLog, AuditRecord, Outcome
from bot.core.db import SessionFactory
from commands.audit.service.filters import Directory, parse_filters
from commands.audit.service.query import PAGE_SIZE, AuditReader
from tests.clock import START, Clock

TARGETS = ["db/orders_1", "db/orders%1", "env/pr-7", "runbook:restart#3", None]
ACTIONS = ["db.create", "db_create", "dbXcreate", "env.create", "db.rotate"]


@pytest.fixture
def reader(sessions: SessionFactory, clock: Clock) -> AuditReader:
    for n in range(30):
        clock.advance(timedelta(hours=7))
        AuditLog(sessions, clock=clock).record(
            actor=["U0BOB", "U0ALICE", "system"][n % 3],
            action=ACTIONS[n % len(ACTIONS)],
            outcome=[Outcome.SUCCEEDED, Outcome.FAILED][n % 2],
            target=TARGETS[n % len(TARGETS)],
        )
    return AuditReader(sessions=sessions, clock=clock)


DIRECTORY = Directory(
    user_named=lambda name: "U0BOB" if name == "bob" else None,
    teams=("payments",),
    team_members=lambda team: ["U0ALICE"],
)


def _everything(reader: AuditReader, filters: str) -> list[int]:
    where = parse_filters(filters.split(), DIRECTORY, reader.now())
    page = reader.page(where)
    ids = [r.id for r in page.records]
    while page.has_older:
        page = reader.page(where, older_than=ids[-1])
        assert len(page.records) <= PAGE_SIZE
        ids += [r.id for r in page.records]
    return ids


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ("action:db_create", lambda r: r.action == "db_create"),
        ("action:db?create", lambda r: fnmatch.fnmatchcase(r.action, "db?create")),
        ("action:db.*", lambda r: r.action.startswith("db.")),
        ("target:orders_1", lambda r: r.target == "db/orders_1"),  # `_` is literal
        ("target:orders%1", lambda r: r.target == "db/orders%1"),  # so is `%`
        ("target:*#3", lambda r: (r.target or "").endswith("#3")),
        ("user:@bob outcome:failed", lambda r: r.actor == "U0BOB" and r.outcome == "failed"),
        ("team:payments", lambda r: r.actor == "U0ALICE"),
        # The clock ends at START + 30 * 7 h; two days before that.
        ("since:2d", lambda r: r.created_at >= START + timedelta(hours=210 - 48)),
    ],
)
def test_a_filter_returns_exactly_the_rows_it_describes(
    reader: AuditReader,
    sessions: SessionFactory,
    filters: str,
    keep: Callable[[AuditRecord], bool],
) -> None:
    with sessions() as session:
        rows = session.query(AuditRecord).order_by(AuditRecord.id.desc()).all()
    expected = [r.id for r in rows if keep(r)]
    assert _everything(reader, filters) == expected
    assert expected  # every case matches something, so a filter that drops all would fail
