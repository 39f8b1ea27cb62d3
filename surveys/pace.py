"""One chat.postMessage pace per workspace, shared by every replica and survey feature.

Slack counts chat.postMessage per workspace, however many processes post. Each process's
`Pacer` therefore takes its slots from the workspace's row in `survey_pace`, a batch at a
time: one `UPDATE … RETURNING` hands out up to `batch` of the current window's allowance
(a new window starts with the first reservation after the last one ended), and the process
spends them locally. Together the replicas never take more than the allowance per window;
unspent slots are given back when a fan-out ends, or lapse with their window.

A 429 seen by any replica is written to the row (`paused_until`); the others read it with
their next reservation and, while another replica holds slots of the same window, at least
once per smallest Retry-After (1 s) as they spend a batch, so they stop too. A replica alone
in its window has nobody to hear from, and asks nothing between reservations.

The row lives in the workspace's own database (in multi-workspace mode each tenant has its
own schema or SQLite file, `bot.runtime.tenants`), so two workspaces never share a pace.
Times in the row are wall-clock seconds: replicas on different hosts agree on them to within
their clock skew, which is small against Slack's one-minute windows.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Float, Integer, String, case, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, SessionFactory, insert_ignore

POST_MESSAGE = "chat.postMessage"


class SurveyPace(Base):
    """The shared window of one Web API method, in the workspace's database."""

    __tablename__ = "survey_pace"

    method: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float)  # wall-clock seconds
    granted: Mapped[int] = mapped_column(Integer)  # slots handed out in this window
    last_grant: Mapped[int] = mapped_column(Integer)  # what the latest reservation got
    paused_until: Mapped[float] = mapped_column(Float)  # after a 429: nobody calls before


@dataclass(frozen=True)
class Grant:
    """A reservation's answer; durations are seconds from the reservation."""

    slots: int
    window_start: float
    window_left: float
    pause_left: float
    window_granted: int  # by every replica so far, these slots included


class SharedPace:
    """The workspace's `survey_pace` row for one method: reserve, pause, give back."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        method: str = POST_MESSAGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._method = method
        self._clock = clock

    def reserve(self, wanted: int, *, calls: int, window: float) -> Grant:
        """Up to `wanted` of the window's `calls` slots (0 when another replica took them)."""
        wanted = max(0, min(wanted, calls))
        now = self._clock()
        row = SurveyPace
        fresh = row.window_start + window <= now
        room = case((row.granted >= calls, 0), else_=calls - row.granted)
        taken = case((room < wanted, room), else_=wanted)
        statement = (
            update(row)
            .where(row.method == self._method)
            .values(
                window_start=case((fresh, now), else_=row.window_start),
                granted=case((fresh, wanted), else_=row.granted + taken),
                last_grant=case((fresh, wanted), else_=taken),
            )
            .returning(row.window_start, row.last_grant, row.granted, row.paused_until)
        )
        for _ in range(2):  # the second time after creating the row
            with self._sessions.begin() as session:
                found = session.execute(statement).first()
                if found is None:
                    session.execute(
                        insert_ignore(session, row, conflict=["method"]).values(
                            method=self._method,
                            window_start=0.0,
                            granted=0,
                            last_grant=0,
                            paused_until=0.0,
                        )
                    )
                    continue
            start, slots, granted, paused_until = found
            return Grant(slots, start, start + window - now, max(0.0, paused_until - now), granted)
        raise RuntimeError(f"the {self._method} pace row could not be created")

    def pause(self, seconds: float) -> None:
        """Nobody calls for `seconds` from now (a later pause already written stands)."""
        until = self._clock() + seconds
        with self._sessions.begin() as session:
            session.execute(
                update(SurveyPace)
                .where(SurveyPace.method == self._method, SurveyPace.paused_until < until)
                .values(paused_until=until)
            )

    def pause_left(self) -> float:
        with self._sessions() as session:
            until = session.scalar(
                select(SurveyPace.paused_until).where(SurveyPace.method == self._method)
            )
        return max(0.0, (until or 0.0) - self._clock())

    def give_back(self, window_start: float, slots: int) -> None:
        """Return unspent slots of a window that has not ended, for the other replicas."""
        if slots <= 0:
            return
        with self._sessions.begin() as session:
            session.execute(
                update(SurveyPace)
                .where(
                    SurveyPace.method == self._method,
                    SurveyPace.window_start == window_start,
                    SurveyPace.granted >= slots,
                )
                .values(granted=SurveyPace.granted - slots)
            )


@dataclass
class _Batch:
    """Slots reserved from the shared pace and not yet spent by this process."""

    left: int = 0
    window_start: float = 0.0
    ends: float = float("-inf")  # on the pacer's clock
    mine: int = 0  # slots this process holds of the window's (spent or not)
    alone: bool = True  # no other replica took slots of this window


class Pacer:
    """The sender threads' limiter in one process: a sliding window of the calls Slack
    counted, within the slots reserved from the workspace's `SharedPace` when there is one.

    A call occupies its slot from `acquire` until it ends, and counts from when it ended
    (`complete`): Slack counted it on arrival, somewhere in between, so the window never
    admits a call before Slack's own would. A 429'd call gives its slot back
    (`rate_limited_for`): Slack did not count it. Each thread holds at most one slot.
    """

    RETRY_AFTER_MIN = 1.0  # Slack's smallest Retry-After: how often a batch checks for pauses

    def __init__(
        self,
        calls: int,
        window_seconds: float,
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedPace | None = None,
        batch: int | None = None,
    ) -> None:
        if calls < 1 or window_seconds <= 0 or time_scale <= 0:
            raise ValueError("calls, window and time_scale must be positive")
        self.calls = calls
        self.window = window_seconds * time_scale
        self.time_scale = time_scale
        self._clock = clock
        self._shared = shared
        # A few reservations per window: cheap, and little left unspent by any one replica.
        self._batch_size = max(1, min(calls, batch or -(-calls // 8)))
        self._counted: deque[float] = deque()  # when each call Slack counted ended
        self._in_flight = 0
        self._paused_until = float("-inf")
        self._batch = _Batch()
        self._synced = float("-inf")
        self._syncing = False  # a thread is asking the shared pace
        self._full_until = float("-inf")  # the shared window has no slot left until then
        self._condition = threading.Condition()
        self._holding = threading.local()
        self.rate_limited = 0

    def acquire(self) -> None:
        """Block until a call may be made now, and hold its slot."""
        with self._condition:
            while True:
                now = self._clock()
                while self._counted and self._counted[0] <= now - self.window:
                    self._counted.popleft()
                wait = max(self._paused_until - now, self._window_wait(now))
                if wait <= 0 and self._shared is not None:
                    shared_wait = self._shared_wait(now)
                    if shared_wait is None:
                        self._sync()
                        continue
                    wait = shared_wait
                if wait <= 0:
                    self._in_flight += 1
                    self._holding.window = self._batch.window_start
                    return
                self._condition.wait(wait)

    def complete(self) -> None:
        """The call this thread holds a slot for has ended: it counts from now."""
        with self._condition:
            if self._release() is not None:
                self._counted.append(self._clock())

    def refund(self) -> None:
        """Give back this thread's slot: the call was not made."""
        with self._condition:
            window = self._release()
            if window is not None:
                self._unspend(window)

    def rate_limited_for(self, retry_after: float) -> None:
        """Slack answered 429: this call was not counted, and nobody (in any replica) calls
        for `retry_after` (scaled) seconds."""
        pause = retry_after * self.time_scale
        with self._condition:
            self.rate_limited += 1
            window = self._release()
            if window is not None:
                self._unspend(window)
            self._paused_until = max(self._paused_until, self._clock() + pause)
        if self._shared is not None:
            self._shared.pause(pause)

    def close(self) -> None:
        """Give the unspent reserved slots back to the other replicas (a fan-out ended)."""
        with self._condition:
            left, self._batch.left = self._batch.left, 0
            self._batch.mine -= left
            window_start = self._batch.window_start
            current = self._clock() < self._batch.ends
        if self._shared is not None and current:
            self._shared.give_back(window_start, left)

    def _window_wait(self, now: float) -> float:
        if self._in_flight + len(self._counted) < self.calls:
            return 0.0
        if self._counted:
            return self._counted[0] + self.window - now
        return self.window  # every slot is in flight: woken when one ends

    def _shared_wait(self, now: float) -> float | None:
        """0 after spending a reserved slot; else how long to wait, or None when the
        database must be asked first (`_sync`)."""
        batch = self._batch
        if self._syncing:
            return self.window  # another thread is asking the database: woken when it has
        if now < self._full_until:
            return self._full_until - now  # the other replicas took this window's allowance
        if batch.left <= 0 or now >= batch.ends:
            return None
        if not batch.alone and now - self._synced >= self.RETRY_AFTER_MIN * self.time_scale:
            return None  # another replica calls in this window too: has it been told to stop?
        batch.left -= 1
        return 0.0

    def _sync(self) -> None:
        """Reserve a batch when none is left, else look for a pause another replica wrote.

        Called holding the lock; the database is asked without it, so the other senders go
        on meanwhile, and by one thread at a time."""
        assert self._shared is not None
        asked = self._clock()
        reserve = self._batch.left <= 0 or asked >= self._batch.ends
        self._syncing = True
        self._condition.release()
        try:
            if reserve:
                grant = self._shared.reserve(self._batch_size, calls=self.calls, window=self.window)
                pause_left = grant.pause_left
            else:
                pause_left = self._shared.pause_left()
        finally:
            self._condition.acquire()
            self._syncing = False
            self._condition.notify_all()
        self._synced = asked
        # The batch counts as ending when measured from before the question, the pause
        # from after the answer: neither lets a call through that the row would not.
        self._paused_until = max(self._paused_until, self._clock() + pause_left)
        if reserve:
            same = self._batch.window_start == grant.window_start
            mine = (self._batch.mine if same else 0) + grant.slots
            ends = asked + grant.window_left
            alone = grant.window_granted <= mine
            self._batch = _Batch(grant.slots, grant.window_start, ends, mine, alone)
            if grant.slots == 0:
                self._full_until = self._batch.ends

    def _release(self) -> float | None:
        """Drop this thread's slot: the shared window it came from; None when the thread
        holds none (it was given back already)."""
        window: float | None = getattr(self._holding, "window", None)
        if window is None:
            return None
        self._holding.window = None
        self._in_flight -= 1
        self._condition.notify_all()
        return window

    def _unspend(self, window: float) -> None:
        """A reserved slot not spent after all goes back to its batch, if still current."""
        batch = self._batch
        if self._shared is not None and batch.window_start == window and self._clock() < batch.ends:
            batch.left += 1
