"""The test clock stands still until a test moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.clock import START, Clock


def test_it_shows_the_same_time_until_moved() -> None:
    clock = Clock()
    assert clock() == clock() == START
    assert clock.timestamp() == START.timestamp()


def test_advance_adds_a_timedelta_and_keywords_together() -> None:
    clock = Clock(datetime(2030, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(hours=1), minutes=30)
    assert clock() == datetime(2030, 1, 1, 1, 30, tzinfo=UTC)
    clock.advance(seconds=0.5)
    assert clock.timestamp() == datetime(2030, 1, 1, 1, 30, 0, 500000, tzinfo=UTC).timestamp()
    clock.advance()
    assert clock() == datetime(2030, 1, 1, 1, 30, 0, 500000, tzinfo=UTC)


def test_a_ticking_clock_moves_on_before_each_reading() -> None:
    clock = Clock(tick=timedelta(seconds=1))
    assert [clock(), clock()] == [START + timedelta(seconds=1), START + timedelta(seconds=2)]


def test_now_can_be_set_and_the_fixture_starts_at_start(clock: Clock) -> None:
    assert clock() == START
    clock.now = START - timedelta(days=1)
    assert clock() == START - timedelta(days=1)
