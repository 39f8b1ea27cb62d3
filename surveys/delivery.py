"""Paced fan-out: send many Web API calls as fast as Slack's limits allow, and no faster.

Slack counts calls per method and workspace in one-minute windows (chat.postMessage: several
hundred a minute for the workspace, one a second per channel; every DM is its own channel).
`Pacer` keeps the same sliding window on our side, so a fan-out runs at the allowance instead
of discovering it through 429s; when a 429 comes anyway (another replica, another feature,
Slack's own judgement) every sender stops for the `Retry-After` and the refused call's slot
is given back, because Slack did not count it either.

`time_scale` shrinks the window and every wait by the same factor. It is 1 in production;
benchmarks run against an emulator whose windows are scaled the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Pacer:
    """A sliding-window limiter shared by the sender threads of one process."""

    def __init__(
        self,
        calls: int,
        window_seconds: float,
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if calls < 1 or window_seconds <= 0 or time_scale <= 0:
            raise ValueError("calls, window and time_scale must be positive")
        self.calls = calls
        self.window = window_seconds * time_scale
        self.time_scale = time_scale
        self._clock = clock
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._condition = threading.Condition()
        self.rate_limited = 0

    def acquire(self) -> None:
        """Block until a call may be made now, and count it."""
        with self._condition:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                wait = self._paused_until - now
                if len(self._sent) >= self.calls:
                    wait = max(wait, self._sent[0] + self.window - now)
                if wait <= 0:
                    self._sent.append(now)
                    return
                self._condition.wait(wait)

    def refund(self) -> None:
        """Give back the last slot taken (the call was not made or not counted by Slack)."""
        with self._condition:
            if self._sent:
                self._sent.pop()
            self._condition.notify_all()

    def rate_limited_for(self, retry_after: float) -> None:
        """Slack answered 429: nobody calls for `retry_after` (scaled) seconds."""
        with self._condition:
            self.rate_limited += 1
            if self._sent:
                self._sent.pop()
            self._paused_until = max(
                self._paused_until, self._clock() + retry_after * self.time_scale
            )
            self._condition.notify_all()


def run_paced(
    claim: Callable[[], T | None],
    send: Callable[[T], None],
    *,
    pacer: Pacer,
    senders: int,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Claim and send items on `senders` threads until `claim` returns None.

    A slot is taken before an item is claimed, so an item is never held (and recorded as
    being sent) while its sender waits for the pacer.
    """
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while not should_stop() and not errors:
                pacer.acquire()
                item = claim()
                if item is None:
                    pacer.refund()
                    return
                send(item)
        except BaseException as exc:  # re-raised in the calling thread below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, name=f"survey-sender-{n}", daemon=True)
        for n in range(max(1, senders))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
