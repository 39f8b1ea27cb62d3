"""The figures `/platform stats` shows, as plain values, and the arithmetic on them.

Nothing here reads the database: `service.py` loads rows and hands them to these functions,
so the tests check the arithmetic on rows whose answers they know.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.core.feedback_trends import CsatWeek, NpsRoundResult

MAX_REASON = 80
TOP_FAILURES = 5


class Period(StrEnum):
    WEEK = "7d"
    MONTH = "30d"
    QUARTER = "90d"

    @property
    def days(self) -> int:
        return int(self.value.removesuffix("d"))


@dataclass(frozen=True)
class TeamUse:
    team: str
    users: int
    uses: int
    small: bool
    """Fewer people of the team than the minimum group size: its figures are not shown."""


@dataclass(frozen=True)
class Timing:
    group: str
    count: int
    p50_seconds: float
    p90_seconds: float


@dataclass(frozen=True)
class ActionOutcomes:
    action: str
    requested: int
    succeeded: int
    failed: int

    @property
    def success_rate(self) -> float | None:
        finished = self.succeeded + self.failed
        return self.succeeded / finished if finished else None


@dataclass(frozen=True)
class Adoption:
    weekly_active: int
    monthly_active: int
    active_in_period: int
    new_users: int
    uses: int
    per_command: list[tuple[str, int]]
    per_team: list[TeamUse]
    daily_active: list[tuple[date, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Outcomes:
    per_action: list[ActionOutcomes]
    provision_by_engine: list[Timing]
    provision_by_driver: list[Timing]
    provision_by_action: list[Timing]
    approval_wait: Timing | None
    failures: list[tuple[str, int]]


@dataclass(frozen=True)
class PooledWeek:
    """All actions' ratings of one week, from the actions with a figure that week only."""

    week_start: datetime
    ratings: int
    average: float


@dataclass(frozen=True)
class Feedback:
    """The surveys' trend over the period (from `Core.feedback_trends`)."""

    nps: list[NpsRoundResult] = field(default_factory=list)
    csat: list[CsatWeek] = field(default_factory=list)

    def csat_pooled(self) -> list[PooledWeek]:
        """The mean rating per week over every action shown that week, oldest first.

        A hidden action-week stays out: with it in, the pooled mean minus the shown ones
        would give away the few ratings the group size hides.
        """
        totals: dict[datetime, tuple[int, float]] = {}
        for week in self.csat:
            if week.average is None:
                continue
            ratings, total = totals.get(week.week_start, (0, 0.0))
            totals[week.week_start] = (ratings + week.ratings, total + week.average * week.ratings)
        return [PooledWeek(start, n, total / n) for start, (n, total) in sorted(totals.items())]


@dataclass(frozen=True)
class Figures:
    period: Period
    start: datetime
    end: datetime
    min_group_size: int
    adoption: Adoption
    outcomes: Outcomes
    feedback: Feedback = field(default_factory=Feedback)


@dataclass(frozen=True)
class AuditRow:
    """The columns of an audit record the outcome figures need."""

    created_at: datetime
    action: str
    outcome: str
    target: str | None
    inputs: dict[str, Any]
    detail: str | None


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: a value that occurred, never an interpolation."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def timing(group: str, seconds: Sequence[float]) -> Timing:
    return Timing(group, len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.9))


def failure_reason(detail: str | None) -> str:
    """What failed, without the particulars: the detail up to its first colon.

    Details read "failed while creating user: <driver error>"; the part after the colon
    names resources and hosts, which would split one reason into many and show them.
    """
    if not detail or not detail.strip():
        return "no reason given"
    head = detail.split(":", 1)[0].strip()
    return head[:MAX_REASON] or "no reason given"


@dataclass
class _Open:
    requested_at: datetime
    engine: str | None
    driver: str | None
    decided_at: datetime | None = None


@dataclass
class _Durations:
    by_engine: dict[str, list[float]] = field(default_factory=dict)
    by_driver: dict[str, list[float]] = field(default_factory=dict)
    by_action: dict[str, list[float]] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)


def outcomes(rows: Iterable[AuditRow], *, start: datetime) -> Outcomes:
    """Outcome figures from audit rows in time order; only rows from `start` on are counted,
    earlier ones only open the requests they close.

    A request is its `requested` record; its later records share its action and target.
    Time to provision: `requested` → `succeeded` (per engine and per driver when the
    request's inputs name them, and per action). Approval wait: `requested` → the last
    `approved`/`denied` vote before the request ends, for requests that needed one.
    """
    counts: Counter[tuple[str, str]] = Counter()
    failures: Counter[str] = Counter()
    durations = _Durations()
    open_requests: dict[tuple[str, str], _Open] = {}
    for row in rows:
        counted = row.created_at >= start
        if counted:
            counts[(row.action, row.outcome)] += 1
            if row.outcome == "failed":
                failures[failure_reason(row.detail)] += 1
        if row.target is not None:
            _pair(row, (row.action, row.target), open_requests, durations, counted=counted)
    actions = sorted({action for action, _ in counts})
    per_action = [
        ActionOutcomes(
            action,
            counts[(action, "requested")],
            counts[(action, "succeeded")],
            counts[(action, "failed")],
        )
        for action in actions
    ]
    per_action.sort(key=lambda a: (-a.requested, a.action))
    return Outcomes(
        per_action=per_action,
        provision_by_engine=[timing(k, v) for k, v in sorted(durations.by_engine.items())],
        provision_by_driver=[timing(k, v) for k, v in sorted(durations.by_driver.items())],
        provision_by_action=[timing(k, v) for k, v in sorted(durations.by_action.items())],
        approval_wait=timing("approval", durations.waits) if durations.waits else None,
        failures=sorted(failures.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAILURES],
    )


def _pair(
    row: AuditRow,
    key: tuple[str, str],
    open_requests: dict[tuple[str, str], _Open],
    durations: _Durations,
    *,
    counted: bool,
) -> None:
    if row.outcome == "requested":
        engine, driver = row.inputs.get("engine"), row.inputs.get("driver")
        open_requests[key] = _Open(
            row.created_at,
            engine if isinstance(engine, str) else None,
            driver if isinstance(driver, str) else None,
        )
        return
    request = open_requests.get(key)
    if request is None:
        return
    if row.outcome == "approved":
        request.decided_at = row.created_at
        return
    if row.outcome not in ("denied", "succeeded", "failed", "cancelled", "expired"):
        return
    del open_requests[key]
    if row.outcome == "denied":
        request.decided_at = row.created_at
    if not counted:
        return
    if request.decided_at is not None:
        durations.waits.append(_seconds(request.decided_at - request.requested_at))
    if row.outcome == "succeeded":
        took = _seconds(row.created_at - request.requested_at)
        durations.by_action.setdefault(key[0], []).append(took)
        if request.engine is not None:
            durations.by_engine.setdefault(request.engine, []).append(took)
        if request.driver is not None:
            durations.by_driver.setdefault(request.driver, []).append(took)


def _seconds(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0)
