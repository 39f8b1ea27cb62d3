"""The pace every replica shares: reservations per window, pauses, on both databases.

Each "replica" has its own engine (its own connections) on the same database, as two
processes would. Assertions compare the times the pacers' own clock shows.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.core.db import SessionFactory, make_engine, make_session_factory
from surveys.pace import Grant, Pacer, SharedPace

CALLS = 10
WINDOW = 3.0


class SteadyClock:
    """Seconds that stand still until `advance`d, or with `running` move on in real time (a
    pacer waits in real time for what its clock says), safe across threads."""

    def __init__(self, *, running: bool = False) -> None:
        self._running = running
        self._offset = 1_000_000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._offset + (time.monotonic() if self._running else 0.0)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


class RecordedPace(SharedPace):
    """A replica's shared pace that remembers what each reservation granted."""

    def __init__(self, sessions: SessionFactory, clock: SteadyClock) -> None:
        super().__init__(sessions, clock=clock)
        self.grants: list[Grant] = []
        self.given_back: Counter[float] = Counter()  # slots per window start

    def reserve(self, wanted: int, *, calls: int, window: float) -> Grant:
        grant = super().reserve(wanted, calls=calls, window=window)
        self.grants.append(grant)
        return grant

    def give_back(self, window_start: float, slots: int) -> None:
        super().give_back(window_start, slots)
        self.given_back[window_start] += slots


@pytest.fixture
def replicas(engine: Engine) -> Iterator[tuple[SessionFactory, SessionFactory]]:
    """Two replicas' sessions on the same database, through engines of their own."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    yield make_session_factory(engine), make_session_factory(other)
    other.dispose()


def test_replicas_share_one_allowance_per_window(
    replicas: tuple[SessionFactory, SessionFactory],
) -> None:
    clock = SteadyClock()
    one, two = (SharedPace(sessions, clock=clock) for sessions in replicas)
    first = one.reserve(4, calls=CALLS, window=WINDOW)
    assert first.slots == 4 and first.window_left == WINDOW
    assert two.reserve(4, calls=CALLS, window=WINDOW).slots == 4
    assert one.reserve(4, calls=CALLS, window=WINDOW).slots == 2  # exactly the allowance
    assert two.reserve(1, calls=CALLS, window=WINDOW).slots == 0  # one over
    clock.advance(WINDOW - 0.001)
    late = two.reserve(1, calls=CALLS, window=WINDOW)
    assert late.slots == 0 and late.window_left == pytest.approx(0.001)
    clock.advance(0.001)  # the window has ended: a new one starts with this reservation
    fresh = two.reserve(CALLS + 5, calls=CALLS, window=WINDOW)
    assert fresh.slots == CALLS and fresh.window_start == first.window_start + WINDOW


def test_slots_given_back_go_to_the_other_replica_within_their_window(
    replicas: tuple[SessionFactory, SessionFactory],
) -> None:
    clock = SteadyClock()
    one, two = (SharedPace(sessions, clock=clock) for sessions in replicas)
    grant = one.reserve(CALLS, calls=CALLS, window=WINDOW)
    one.give_back(grant.window_start, 3)
    assert two.reserve(5, calls=CALLS, window=WINDOW).slots == 3
    one.give_back(grant.window_start - WINDOW, 3)  # an older window's: nothing changes
    assert two.reserve(1, calls=CALLS, window=WINDOW).slots == 0


def test_a_429_on_one_replica_pauses_the_other(
    replicas: tuple[SessionFactory, SessionFactory],
) -> None:
    clock = SteadyClock(running=True)
    one, two = (
        Pacer(CALLS, 60.0, time_scale=0.05, clock=clock, shared=SharedPace(s, clock=clock))
        for s in replicas
    )
    one.acquire()
    two.acquire()
    two.complete()  # the other replica holds a reserved batch: it must still stop
    paused_until = clock() + 0.2
    one.rate_limited_for(4)  # Retry-After 4 s, scaled: 0.2 s
    clock.advance(0.05)  # a replica spending a batch looks for pauses once a (scaled) second
    two.acquire()
    assert clock() >= paused_until
    assert one.rate_limited == 1 and two.rate_limited == 0


def test_two_replicas_never_take_more_than_the_allowance_per_window(
    replicas: tuple[SessionFactory, SessionFactory],
) -> None:
    clock = SteadyClock(running=True)
    paces = [RecordedPace(sessions, clock) for sessions in replicas]
    pacers = [
        Pacer(CALLS, 60.0, time_scale=0.005, clock=clock, shared=pace, batch=3) for pace in paces
    ]
    each = 3 * CALLS + 4
    started = clock()

    def send(pacer: Pacer) -> None:
        for _ in range(each):
            pacer.acquire()
            pacer.complete()
        pacer.close()

    threads = [threading.Thread(target=send, args=(pacer,)) for pacer in pacers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent: Counter[float] = Counter()  # per window: slots reserved and not given back
    for pace in paces:
        for grant in pace.grants:
            spent[grant.window_start] += grant.slots
        spent.subtract(pace.given_back)
    assert max(spent.values()) <= CALLS
    assert sum(spent.values()) >= 2 * each  # every call had a reserved slot
    window = 60.0 * 0.005
    assert clock() - started >= (math.ceil(2 * each / CALLS) - 1) * window


def test_a_429_gives_back_the_refused_call_s_slot_only() -> None:
    clock = SteadyClock(running=True)
    pacer = Pacer(2, 60.0, time_scale=0.05, clock=clock)  # 2 calls per 3 s
    pacer.acquire()
    before = clock()
    pacer.complete()  # counted from a moment between `before` and `after`
    after = clock()
    pacer.acquire()
    pacer.rate_limited_for(1)  # not counted by Slack: its slot is free after the pause
    pacer.rate_limited_for(1)  # a second report for the same call frees nothing more
    pacer.acquire()
    pacer.complete()
    assert clock() < after + 3.0  # waited for the pause (0.05 s), not the window
    pacer.acquire()  # the third counted call of the window waits for the first to expire
    assert clock() >= before + 3.0
