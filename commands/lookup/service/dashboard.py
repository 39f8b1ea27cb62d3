"""A person's on-call shifts in the next 14 days, for their dashboard (`Core.dashboard`).

The on-call provider is asked by the person's email (and Slack id, which a rotation file may
list instead), at most once per `cache_seconds` per person: the App Home is published on
every open and after every change, and PagerDuty or Opsgenie answer in hundreds of
milliseconds. When the provider fails, the person's last answer is shown (the shifts still
running) with a note that it could not be refreshed; with no earlier answer the slot says
the shifts could not be read, and the rest of the dashboard is drawn as usual. A failure is
remembered for the same time as an answer, so an outage does not add a timeout to every
publish.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.dashboard import CancelOutcome, DashboardItems, EventItem
from bot.core.identity import Principal
from bot.core.ttl_cache import TtlCache
from integrations.errors import IntegrationError
from integrations.protocols import OnCallProvider, OnCallShift

logger = logging.getLogger(__name__)

SHIFT_WINDOW = timedelta(days=14)
"""How far ahead the dashboard looks (the home view's "next 14 days")."""
CACHED_PEOPLE_MAX = 5_000


@dataclass(frozen=True)
class _Answer:
    shifts: Sequence[OnCallShift]
    failed: bool = False


class OnCallShiftsDashboard:
    def __init__(
        self,
        provider: OnCallProvider,
        *,
        cache_seconds: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._provider = provider
        self._ttl = timedelta(seconds=cache_seconds)
        self._clock = clock
        self._answers: TtlCache[_Answer] = TtlCache(CACHED_PEOPLE_MAX)
        self._last_good: TtlCache[_Answer] = TtlCache(CACHED_PEOPLE_MAX)

    def items_for(self, principal: Principal) -> DashboardItems:
        now = self._clock()
        answer = self._answers.get(principal.user_id, now) or self._ask(principal, now)
        if not answer.failed:
            return DashboardItems(shifts=_events(answer.shifts, now))
        known = self._last_good.get(principal.user_id, now)
        if known is None:
            note = f"Your shifts could not be read from {self._provider.name} just now."
            return DashboardItems(shifts_note=note)
        return DashboardItems(
            shifts=_events(known.shifts, now),
            shifts_note=f"{self._provider.name} could not be reached just now: these are "
            "the shifts it told me last.",
        )

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        return None  # a shift is no request

    def _ask(self, principal: Principal, now: datetime) -> _Answer:
        try:
            shifts = self._provider.shifts_for(
                email=principal.email,
                slack_user_id=principal.user_id,
                since=now,
                until=now + SHIFT_WINDOW,
            )
        except IntegrationError as exc:
            logger.warning("on-call shifts of %s could not be read: %s", principal.user_id, exc)
            answer = _Answer((), failed=True)
        else:
            answer = _Answer(tuple(shifts))
            # Kept for the window itself: the fallback is still true for the shifts it holds.
            self._last_good.put(principal.user_id, answer, now + SHIFT_WINDOW)
        self._answers.put(principal.user_id, answer, now + self._ttl)
        return answer


def _events(shifts: Sequence[OnCallShift], now: datetime) -> list[EventItem]:
    return [
        EventItem(
            what=f"On call: {shift.schedule}" if shift.schedule else "On call",
            starts_at=shift.start or now,
            ends_at=shift.end,
        )
        for shift in shifts
        if shift.end is None or shift.end > now
    ]
