"""`TtlCache`: what the identity service remembers between directory lookups.

Principals, email lookups and usergroups live in one each. Expiry is per entry (a stale
fallback lives shorter than a fresh answer), and `get_even_expired` serves the last known
value while the directory is down.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Generic, TypeVar

_V = TypeVar("_V")


class TtlCache(Generic[_V]):
    """A thread-safe, size-bounded LRU map whose entries expire at a given instant."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._entries: OrderedDict[str, tuple[_V, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, now: datetime) -> _V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[1] <= now:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def get_even_expired(self, key: str) -> _V | None:
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else entry[0]

    def put(self, key: str, value: _V, expires_at: datetime) -> None:
        with self._lock:
            self._entries[key] = (value, expires_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)

    def pop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def drop_values(self, value: _V) -> None:
        with self._lock:
            for key in [key for key, (cached, _) in self._entries.items() if cached == value]:
                del self._entries[key]
