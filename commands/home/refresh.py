"""Publishing App Homes after changes: coalesced per person, paced, off every request path.

`Core.dashboard.changed(people)` only marks them due here; one background thread publishes.
A person is published at most once per `interval` (Slack's views.publish is Tier 4, and a
burst of changes, e.g. an approval that updates two cards and DMs three people, is one
publish, not six). Marks made while their publish runs make one more publish afterwards, so
the last change is always shown. The due set is bounded: past `max_due` people, new marks are
dropped (and counted) rather than growing memory without end; those people see their
dashboard when they next open it.

    queue = RefreshQueue(publish_home_of, interval=2.0)
    queue.start(); queue.changed({"U1", "U2"}); ...; queue.close()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)

MAX_DUE = 10_000


class RefreshQueue:
    def __init__(
        self,
        publish: Callable[[str], None],
        *,
        interval: float,
        max_due: int = MAX_DUE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publish = publish
        self._interval = interval
        self._max_due = max_due
        self._clock = clock
        self._due: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def changed(self, people: Iterable[str]) -> None:
        """Mark `people` due for a publish; returns at once."""
        now = self._clock()
        with self._wake:
            for user_id in people:
                if user_id in self._due:
                    continue
                if len(self._due) >= self._max_due:
                    self.dropped += 1
                    continue
                self._due[user_id] = max(
                    now, self._last.get(user_id, now - self._interval) + self._interval
                )
            self._wake.notify()

    def published(self, user_id: str) -> None:
        """`user_id`'s home was just published by someone else (they opened it)."""
        with self._wake:
            self._last[user_id] = self._clock()

    def start(self) -> None:
        with self._wake:
            if self._thread is not None:
                return
            self._stopped = False
            self._thread = threading.Thread(target=self._run, name="home-refresh", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def run_due(self) -> int:
        """Publish everyone due now, in this thread; how many (the worker's step, for tests)."""
        now = self._clock()
        with self._wake:
            due = [user for user, at in self._due.items() if at <= now]
            for user in due:
                del self._due[user]
                self._last[user] = now
            self._forget_idle(now)
        for user in due:
            try:
                self._publish(user)
            except Exception:
                logger.exception("could not publish an App Home")
        return len(due)

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopped:
                    return
                wait = self._next_wait()
                if wait is None or wait > 0:
                    self._wake.wait(timeout=wait)
                    continue
            self.run_due()

    def _next_wait(self) -> float | None:
        if not self._due:
            return None
        return min(self._due.values()) - self._clock()

    def _forget_idle(self, now: float) -> None:
        # Only the last `interval` matters for pacing: older entries would only grow.
        if len(self._last) > self._max_due:
            self._last = {u: at for u, at in self._last.items() if now - at < self._interval}
