"""Waiting for background threads and processes in tests, with a deadline instead of sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object], *, timeout: float = 5.0, step: float = 0.02
) -> bool:
    """Poll `condition` until it is truthy; False if `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())
