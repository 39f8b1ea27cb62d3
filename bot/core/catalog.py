"""What a feature calls when it has added an entity to the catalog's source: refresh the index.

Features type against `CatalogRefresh` (they may not import each other). The feature that
keeps the catalog index (lookup) offers its service in its parts (`Parts.catalog`); the
runtime attaches it to the one `CatalogRelay` every feature gets as `Core.catalog`. Without
such a feature the relay refreshes nothing and says so, and the caller tells its user the
entity appears at the catalog's next scheduled refresh.

    core.catalog.refresh()   # True once the index (and what lookups read) has the new entity
"""

from __future__ import annotations

import threading
from typing import Protocol


class CatalogRefresh(Protocol):
    def refresh(self) -> object:
        """Re-read the catalog and swap in the new index; raises `PlatformError` when the
        catalog or the database cannot be read (the last index stays)."""
        ...


class CatalogRelay:
    """The `CatalogRefresh` every feature holds; forwards to the index once attached."""

    def __init__(self) -> None:
        self._provider: CatalogRefresh | None = None
        self._lock = threading.Lock()

    def attach(self, provider: CatalogRefresh) -> None:
        with self._lock:
            if self._provider is not None:
                raise ValueError("only one feature may keep the catalog index")
            self._provider = provider

    def refresh(self) -> bool:
        """Refresh the index now; False when no feature keeps one."""
        provider = self._provider
        if provider is None:
            return False
        provider.refresh()
        return True
