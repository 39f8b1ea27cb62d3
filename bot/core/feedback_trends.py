"""How the surveys' results moved over a period: NPS per round and action CSAT per week.

The stats feature shows these figures but may not read the surveys' tables (features never
import each other). NPS offers `NpsRounds` (`Parts.nps_rounds`) and CSAT offers `CsatWeeks`
(`Parts.csat_weeks`); the runtime attaches both to the one `FeedbackTrends` every feature gets
as `Core.feedback_trends`. Without a provider its part is empty.

Both respect the surveys' minimum group size the same way: a group (a round, or one action in
one week) with fewer answers than it has no figure, only its count, and it is left out of
every other figure too, so nothing can be worked out by subtracting one figure from another.

    trends = core.feedback_trends
    rounds = trends.nps_rounds(start=start, end=end)
    weeks = trends.csat_weeks(start=start, end=end)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class NpsScore:
    """The answers of a round, by class: promoters 9-10, passives 7-8, detractors 0-6."""

    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float:
        """% promoters minus % detractors, -100 to 100."""
        return 100.0 * (self.promoters - self.detractors) / self.responses


@dataclass(frozen=True)
class NpsRoundResult:
    campaign: str
    number: int
    opened_at: datetime
    responses: int
    min_group_size: int
    result: NpsScore | None
    """None when the round has fewer than `min_group_size` answers."""


@dataclass(frozen=True)
class CsatWeek:
    """The ratings (1-5) of one action in one week of the period."""

    action: str
    week_start: datetime
    ratings: int
    min_group_size: int
    average: float | None
    """None when the action has fewer than `min_group_size` ratings that week."""


def week_windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The period as weeks counted back from `end`, oldest first; the oldest is cut at
    `start` (a 30-day period is four weeks and two days)."""
    windows: list[tuple[datetime, datetime]] = []
    upper = end
    while upper > start:
        windows.append((max(upper - WEEK, start), upper))
        upper -= WEEK
    windows.reverse()
    return windows


class NpsRounds(Protocol):
    def nps_rounds(self, *, start: datetime, end: datetime) -> list[NpsRoundResult]:
        """The rounds of the configured campaigns opened in [start, end), by campaign and
        round number."""
        ...


class CsatWeeks(Protocol):
    def csat_weeks(self, *, start: datetime, end: datetime) -> list[CsatWeek]:
        """Ratings of actions asked about in [start, end), per `week_windows` week and
        action (weeks without ratings of an action are left out), oldest week first."""
        ...


class FeedbackTrends:
    """What every feature holds; forwards to the NPS and CSAT providers once attached."""

    def __init__(self) -> None:
        self._nps: NpsRounds | None = None
        self._csat: CsatWeeks | None = None
        self._lock = threading.Lock()

    def attach_nps(self, provider: NpsRounds) -> None:
        with self._lock:
            if self._nps is not None:
                raise ValueError("only one feature may offer NPS rounds")
            self._nps = provider

    def attach_csat(self, provider: CsatWeeks) -> None:
        with self._lock:
            if self._csat is not None:
                raise ValueError("only one feature may offer CSAT weeks")
            self._csat = provider

    def nps_rounds(self, *, start: datetime, end: datetime) -> list[NpsRoundResult]:
        provider = self._nps
        return [] if provider is None else provider.nps_rounds(start=start, end=end)

    def csat_weeks(self, *, start: datetime, end: datetime) -> list[CsatWeek]:
        provider = self._csat
        return [] if provider is None else provider.csat_weeks(start=start, end=end)
