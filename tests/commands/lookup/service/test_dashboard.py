"""On-call shifts on a person's dashboard: the next 14 days, cached per person, and what it
shows when the on-call tool is down."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.identity import Principal
from commands.lookup.service.dashboard import SHIFT_WINDOW, OnCallShiftsDashboard
from integrations.fakes import FakeOnCall
from integrations.protocols import OnCallPerson, OnCallShift
from tests.clock import Clock

BOB = Principal(
    "U0BOB", "Bob", "bob@example.com", None, False, False, False,
    frozenset(), frozenset(), frozenset(), frozenset(),
)  # fmt: skip
CAROL = Principal(
    "U0CAROL", "Carol", "carol@example.com", None, False, False, False,
    frozenset(), frozenset(), frozenset(), frozenset(),
)  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def oncall(clock: Clock) -> FakeOnCall:
    now = clock.now
    person = OnCallPerson("Bob", "bob@example.com")
    fake = FakeOnCall()
    fake.shifts["bob@example.com"] = [
        OnCallShift(
            person, now - timedelta(hours=2), now + timedelta(hours=6), schedule="payments"
        ),
        OnCallShift(person, now + timedelta(days=3), now + timedelta(days=4), schedule="search"),
        OnCallShift(person, now + SHIFT_WINDOW, now + SHIFT_WINDOW + timedelta(days=1)),
    ]
    return fake


def _dashboard(oncall: FakeOnCall, clock: Clock, cache_seconds: int = 60) -> OnCallShiftsDashboard:
    return OnCallShiftsDashboard(oncall, cache_seconds=cache_seconds, clock=clock)


def test_the_shifts_of_the_next_14_days_are_the_persons_own(
    oncall: FakeOnCall, clock: Clock
) -> None:
    dashboard = _dashboard(oncall, clock)
    items = dashboard.items_for(BOB)
    assert [(s.what, s.starts_at) for s in items.shifts] == [
        ("On call: payments", clock.now - timedelta(hours=2)),  # running now
        ("On call: search", clock.now + timedelta(days=3)),
    ]  # the one starting exactly 14 days from now is not in
    assert items.shifts_note == ""
    assert not dashboard.items_for(CAROL).shifts


def test_answers_are_cached_per_person_briefly(oncall: FakeOnCall, clock: Clock) -> None:
    dashboard = _dashboard(oncall, clock)
    dashboard.items_for(BOB)
    dashboard.items_for(BOB)
    dashboard.items_for(CAROL)
    assert oncall.calls["shifts_for"] == 2
    clock.advance(seconds=61)
    dashboard.items_for(BOB)
    assert oncall.calls["shifts_for"] == 3


def test_a_shift_that_ended_since_the_answer_leaves_the_dashboard(
    oncall: FakeOnCall, clock: Clock
) -> None:
    dashboard = _dashboard(oncall, clock, cache_seconds=8 * 3600)
    dashboard.items_for(BOB)
    clock.advance(hours=7)
    assert [s.what for s in dashboard.items_for(BOB).shifts] == ["On call: search"]
    assert oncall.calls["shifts_for"] == 1


def test_provider_down_with_no_earlier_answer_says_so_and_is_not_asked_again_at_once(
    oncall: FakeOnCall, clock: Clock
) -> None:
    oncall.available = False
    dashboard = _dashboard(oncall, clock)
    items = dashboard.items_for(BOB)
    assert not items.shifts
    assert items.shifts_note == "Your shifts could not be read from fake-oncall just now."
    dashboard.items_for(BOB)
    assert oncall.calls["shifts_for"] == 1  # the failure is remembered like an answer


def test_provider_down_after_an_answer_shows_the_last_one_with_a_note(
    oncall: FakeOnCall, clock: Clock
) -> None:
    dashboard = _dashboard(oncall, clock)
    dashboard.items_for(BOB)
    oncall.available = False
    clock.advance(seconds=61)
    items = dashboard.items_for(BOB)
    assert [s.what for s in items.shifts] == ["On call: payments", "On call: search"]
    assert "could not be reached just now" in items.shifts_note
    oncall.available = True
    clock.advance(seconds=61)
    assert dashboard.items_for(BOB).shifts_note == ""


def test_a_permanent_on_call_shows_from_now_without_an_end(clock: Clock) -> None:
    fake = FakeOnCall()
    fake.shifts["bob@example.com"] = [OnCallShift(OnCallPerson("Bob"), None, None, schedule="ops")]
    [shift] = _dashboard(fake, clock).items_for(BOB).shifts
    assert (shift.starts_at, shift.ends_at) == (clock.now, None)


def test_nothing_is_cached_with_cache_seconds_zero(oncall: FakeOnCall, clock: Clock) -> None:
    dashboard = _dashboard(oncall, clock, cache_seconds=0)
    dashboard.items_for(BOB)
    dashboard.items_for(BOB)
    assert oncall.calls["shifts_for"] == 2


def test_nobody_cancels_a_shift(oncall: FakeOnCall, clock: Clock) -> None:
    assert _dashboard(oncall, clock).cancel(BOB, "payments") is None
