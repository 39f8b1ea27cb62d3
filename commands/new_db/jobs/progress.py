"""Edits of a provisioning progress message, at most one per interval.

A provisioner step often takes milliseconds: editing the message before each one costs a
`chat.update` (Tier 3 on Slack, ~50 a minute per workspace) that nobody could read before
the next one replaces it. `ProgressEdits` shows a step at once when the last edit is older
than the interval, and otherwise shows the newest step when the interval is up, so a step
that lasts longer than the interval is always on screen within it. `close` drops the edit
still waiting (the caller then makes the final one: ready, or the failure).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from commands.new_db.service.types import MessageRef, RequestInfo, Step


class ProgressEdits:
    """`edit` is `Notifier.edit_progress`; `ref` the progress message already posted."""

    def __init__(
        self,
        edit: Callable[[MessageRef, RequestInfo, Step], None],
        ref: MessageRef,
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._edit = edit
        self._ref = ref
        self._interval = interval
        self._clock = clock
        # Posting the message counts as its first edit.
        self._last = clock()
        self._pending: tuple[RequestInfo, Step] | None = None
        self._timer: threading.Timer | None = None
        self._closed = False
        # Held while editing, so the timer's edit and `close` never interleave: nothing
        # older can overwrite the final edit made after `close`.
        self._lock = threading.Lock()

    def show(self, info: RequestInfo, step: Step) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending = (info, step)
            wait = self._last + self._interval - self._clock()
            if wait <= 0:
                self._flush()
            elif self._timer is None:
                self._timer = threading.Timer(wait, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._pending = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if not self._closed:
                self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self._edit(self._ref, *pending)
            self._last = self._clock()
