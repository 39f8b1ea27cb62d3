"""The one test clock: it shows the time it was set to, and moves only when a test says so.

Code under test takes a clock as a callable. Pass the clock itself where that callable returns
an aware `datetime` (jobs, audit, identity, surveys…), and `clock.timestamp` where it returns
POSIX seconds like `time.time` (the Slack emulator, its rate limiter).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
"""Where a clock starts unless a test says otherwise: a Sunday morning, in UTC."""


class Clock:
    """A settable clock. `now` may be set directly; `advance` moves it on.

    With `tick`, every reading first moves the clock on by `tick`, so that things recorded one
    after the other get distinct, ordered times.
    """

    def __init__(self, now: datetime = START, *, tick: timedelta = timedelta(0)) -> None:
        self.now = now
        self.tick = tick

    def __call__(self) -> datetime:
        self.now += self.tick
        return self.now

    def timestamp(self) -> float:
        """The same reading as POSIX seconds, for code that expects `time.time`."""
        return self().timestamp()

    def advance(self, delta: timedelta = timedelta(0), /, **parts: float) -> None:
        """Moves on by `delta` plus `parts` (timedelta's keywords: `advance(hours=2)`)."""
        self.now += delta + timedelta(**parts)
