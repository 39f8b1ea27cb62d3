"""What a service card shows of the runbooks for that service.

The lookup feature draws the card and may not import the runbooks feature, so runbooks
offers `ServiceRunbooks` in its parts (`Parts.runbooks`); the runtime attaches it to the one
`RunbookRelay` every feature gets as `Core.runbooks`. Without it the relay finds none, and the
card has no runbooks line.

    core.runbooks.for_service(principal, "component:default/orders-api")
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from bot.core.identity import Principal


@dataclass(frozen=True)
class RunbookLink:
    name: str
    """What `/platform runbook run NAME` takes."""
    title: str


class ServiceRunbooks(Protocol):
    def for_service(self, principal: Principal, entity_ref: str) -> list[RunbookLink]:
        """The runbooks of the catalog entity `entity_ref` (`kind:namespace/name`) that
        `principal` may run, by name."""
        ...


class RunbookRelay:
    """The `ServiceRunbooks` every feature holds; forwards to the provider once attached."""

    def __init__(self) -> None:
        self._provider: ServiceRunbooks | None = None
        self._lock = threading.Lock()

    def attach(self, provider: ServiceRunbooks) -> None:
        with self._lock:
            if self._provider is not None:
                raise ValueError("only one feature may offer the runbooks of services")
            self._provider = provider

    def for_service(self, principal: Principal, entity_ref: str) -> list[RunbookLink]:
        provider = self._provider
        return [] if provider is None else provider.for_service(principal, entity_ref)
