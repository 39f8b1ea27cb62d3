"""Leader election: one leader per PostgreSQL database, failover on loss; SQLite always leads."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from bot.core.leader import LeaderElector
from tests.core.polling import wait_until


class Duties:
    """Counts how often an elector started and stopped the leader's work."""

    def __init__(self, *, fail_to_start: bool = False) -> None:
        self.elected = 0
        self.demoted = 0
        self.fail_to_start = fail_to_start

    def on_elected(self) -> None:
        self.elected += 1
        if self.fail_to_start:
            raise RuntimeError("the scheduler could not start")

    def on_demoted(self) -> None:
        self.demoted += 1


@pytest.fixture
def key() -> int:
    # Advisory locks are server-wide per database; a random key keeps concurrent test runs
    # (and the bot's own lock) out of each other's way.
    return random.randrange(1, 2**31)


@pytest.fixture
def electors(pg_engine: Engine) -> Iterator[list[LeaderElector]]:
    # Depends on `pg_engine` so that the electors stop before the database is dropped.
    started: list[LeaderElector] = []
    yield started
    for elector in started:
        elector.stop()


def make_elector(
    engine: Engine, key: int, duties: Duties, electors: list[LeaderElector]
) -> LeaderElector:
    elector = LeaderElector(
        engine,
        key=key,
        poll_interval=0.05,
        on_elected=duties.on_elected,
        on_demoted=duties.on_demoted,
    )
    electors.append(elector)
    return elector


def test_the_single_sqlite_process_is_leader_at_once(sqlite_engine: Engine, key: int) -> None:
    duties = Duties()
    elector = LeaderElector(
        sqlite_engine, key=key, on_elected=duties.on_elected, on_demoted=duties.on_demoted
    )

    elector.start()
    assert elector.is_leader and (duties.elected, duties.demoted) == (1, 0)

    elector.stop()
    assert not elector.is_leader and (duties.elected, duties.demoted) == (1, 1)


@pytest.mark.postgres
def test_one_of_two_electors_leads_and_the_other_takes_over_when_it_stops(
    pg_engine: Engine, key: int, electors: list[LeaderElector]
) -> None:
    first_duties, second_duties = Duties(), Duties()
    first = make_elector(pg_engine, key, first_duties, electors)
    second = make_elector(pg_engine, key, second_duties, electors)

    first.start()
    assert wait_until(lambda: first.is_leader)
    second.start()
    assert not wait_until(lambda: second.is_leader, timeout=0.5)
    assert second_duties.elected == 0

    first.stop()
    assert not first.is_leader
    assert (first_duties.elected, first_duties.demoted) == (1, 1)
    assert wait_until(lambda: second.is_leader)
    assert second_duties.elected == 1


@pytest.mark.postgres
def test_a_leader_that_loses_its_connection_is_demoted_and_competes_again(
    pg_engine: Engine, key: int, electors: list[LeaderElector]
) -> None:
    duties = Duties()
    elector = make_elector(pg_engine, key, duties, electors)
    elector.start()
    assert wait_until(lambda: elector.is_leader)

    with pg_engine.begin() as connection:
        # The session holding the advisory lock (a key below 2**32 is stored in objid).
        terminated = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND classid = 0 AND objid = :key AND granted"
            ),
            {"key": key},
        ).scalar_one()
    assert terminated is True

    assert wait_until(lambda: duties.demoted == 1)
    assert wait_until(lambda: duties.elected == 2 and elector.is_leader)


@pytest.mark.postgres
def test_a_leader_that_cannot_start_its_duties_gives_the_lock_up(
    pg_engine: Engine, key: int, electors: list[LeaderElector]
) -> None:
    broken_duties, healthy_duties = Duties(fail_to_start=True), Duties()
    broken = make_elector(pg_engine, key, broken_duties, electors)
    healthy = make_elector(pg_engine, key, healthy_duties, electors)

    broken.start()
    assert wait_until(lambda: broken_duties.demoted >= 1)
    assert not broken.is_leader
    healthy.start()

    assert wait_until(lambda: healthy.is_leader, timeout=5)
    assert healthy_duties.elected == 1


def test_the_lock_key_must_fit_a_bigint(sqlite_engine: Engine) -> None:
    with pytest.raises(ValueError, match="bigint"):
        LeaderElector(sqlite_engine, key=2**63)
