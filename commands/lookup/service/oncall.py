"""Who is on call for an entity: which provider target to ask, and a short cache in front.

Target per provider (annotation on the entity, else on its owning group):
- PagerDuty: `pagerduty.com/service-id` (a service, via its escalation policy), or on a
  group `pagerduty.com/escalation-policy-id` / `pagerduty.com/schedule-id`;
- Opsgenie: `opsgenie.com/schedule` (a schedule name), or `opsgenie.com/team` (that team's
  default schedule, `<team>_schedule`);
- rotation file: `platform-bot/rotation`, else the group's own name.

Answers are cached for `cache_seconds`. When the provider fails, the last answer for that
target is returned marked stale (with when it was fetched) instead of an error; only a
target never fetched before turns an outage into `Unavailable`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.db import utcnow
from bot.core.errors import Unavailable
from commands.lookup.service.read_model import IndexedEntity
from integrations.errors import IntegrationError, ProviderNotFound
from integrations.protocols import OnCallProvider, OnCallStatus, OnCallTarget

logger = logging.getLogger(__name__)

ROTATION_ANNOTATION = "platform-bot/rotation"


@dataclass(frozen=True)
class OnCallAnswer:
    status: OnCallStatus
    stale: bool = False
    problem: str | None = None
    """Why the answer is stale: the provider's failure, safe to show."""


def target_for(provider: str, entity: IndexedEntity) -> OnCallTarget | None:
    """The provider target for `entity` itself (not its owner), or None."""
    notes = entity.annotations
    if provider == "pagerduty":
        if notes.get("pagerduty.com/service-id"):
            return OnCallTarget("service", notes["pagerduty.com/service-id"])
        if notes.get("pagerduty.com/escalation-policy-id"):
            return OnCallTarget("escalation_policy", notes["pagerduty.com/escalation-policy-id"])
        if notes.get("pagerduty.com/schedule-id"):
            return OnCallTarget("schedule", notes["pagerduty.com/schedule-id"])
        return None
    if provider == "opsgenie":
        if notes.get("opsgenie.com/schedule"):
            return OnCallTarget("schedule", notes["opsgenie.com/schedule"])
        if notes.get("opsgenie.com/team"):
            return OnCallTarget("schedule", f"{notes['opsgenie.com/team']}_schedule")
        return None
    if notes.get(ROTATION_ANNOTATION):
        return OnCallTarget("rotation", notes[ROTATION_ANNOTATION])
    if entity.kind == "group":
        return OnCallTarget("rotation", entity.name)
    return None


class OnCallDirectory:
    """The on-call provider behind a TTL cache with a last-known-good fallback."""

    def __init__(
        self,
        provider: OnCallProvider,
        *,
        cache_seconds: int,
        local: bool,
        clock: Callable[[], datetime] = utcnow,
        max_entries: int = 5_000,
    ) -> None:
        self._provider = provider
        self._ttl = timedelta(seconds=cache_seconds)
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[OnCallTarget, OnCallStatus] = OrderedDict()
        self.local = local
        """A local provider (the rotation file) is cheap to ask on the request path."""

    @property
    def provider_name(self) -> str:
        return self._provider.name

    @property
    def provider(self) -> OnCallProvider:
        return self._provider

    def cached(self, target: OnCallTarget) -> OnCallAnswer | None:
        """A fresh cached answer, or None if the provider would have to be asked."""
        now = self._clock()
        with self._lock:
            status = self._entries.get(target)
        if status is not None and status.as_of + self._ttl > now:
            return OnCallAnswer(status)
        return None

    def answer(self, target: OnCallTarget) -> OnCallAnswer | None:
        """Who is on call for `target`; None if the provider has no such target."""
        fresh = self.cached(target)
        if fresh is not None:
            return fresh
        now = self._clock()
        try:
            status = self._provider.on_call(target, at=now)
        except ProviderNotFound:
            return None
        except IntegrationError as exc:
            logger.warning("on-call lookup failed for %s %s: %s", target.kind, target.id, exc)
            with self._lock:
                known = self._entries.get(target)
            if known is None:
                raise Unavailable(
                    f"I can't reach {self._provider.name} to see who is on call, and I have "
                    "no earlier answer to fall back on. Try again in a minute."
                ) from None
            return OnCallAnswer(known, stale=True, problem=exc.message)
        with self._lock:
            self._entries[target] = status
            self._entries.move_to_end(target)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return OnCallAnswer(status)
