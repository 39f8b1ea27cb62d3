"""The stats as Prometheus gauges for Grafana, refreshed by a leader task.

Label values come from fixed sets only: subcommands the router registered (plus help and
unknown), teams named in the config, engines of the config's engine enum, and audit actions,
which features write as code constants (never from what a request carries), capped at
MAX_ACTIONS. A team below the
minimum group size gets no series, as it gets no line in chat. Values are of the last 30 days.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

from prometheus_client import Gauge

from commands.stats.figures import Figures, Period, Timing
from commands.stats.service import StatsService

MAX_ACTIONS = 50
_MODE: Final = "livemostrecent"  # only the leader sets them; a dead leader's values go with it

ACTIVE_USERS = Gauge(
    "platform_bot_stats_active_users",
    "People who used /platform in the last 7 or 30 days.",
    ["window"],
    multiprocess_mode=_MODE,
)
NEW_USERS = Gauge(
    "platform_bot_stats_new_users",
    "People whose first /platform use was in the last 30 days.",
    multiprocess_mode=_MODE,
)
COMMAND_USES = Gauge(
    "platform_bot_stats_command_uses",
    "/platform uses in the last 30 days, by subcommand.",
    ["subcommand"],
    multiprocess_mode=_MODE,
)
TEAM_USES = Gauge(
    "platform_bot_stats_team_uses",
    "/platform uses in the last 30 days, by team (teams of enough people only).",
    ["team"],
    multiprocess_mode=_MODE,
)
REQUESTS = Gauge(
    "platform_bot_stats_requests",
    "Requests recorded in the audit log in the last 30 days, by action.",
    ["action"],
    multiprocess_mode=_MODE,
)
SUCCESS_RATIO = Gauge(
    "platform_bot_stats_success_ratio",
    "Succeeded / finished requests in the last 30 days, by action.",
    ["action"],
    multiprocess_mode=_MODE,
)
PROVISION_SECONDS = Gauge(
    "platform_bot_stats_provision_seconds",
    "Time from request to ready in the last 30 days, by engine, p50 and p90.",
    ["engine", "quantile"],
    multiprocess_mode=_MODE,
)
APPROVAL_WAIT_SECONDS = Gauge(
    "platform_bot_stats_approval_wait_seconds",
    "Time from request to approval decision in the last 30 days, p50 and p90.",
    ["quantile"],
    multiprocess_mode=_MODE,
)
_ALL = (
    ACTIVE_USERS,
    NEW_USERS,
    COMMAND_USES,
    TEAM_USES,
    REQUESTS,
    SUCCESS_RATIO,
    PROVISION_SECONDS,
    APPROVAL_WAIT_SECONDS,
)


class StatsGauges:
    def __init__(
        self,
        *,
        stats: StatsService,
        subcommands: Callable[[], Collection[str]],
        engines: Collection[str],
    ) -> None:
        self._stats = stats
        self._subcommands = subcommands
        self._engines = frozenset(engines)

    def refresh(self) -> None:
        """The leader's task: recompute the last 30 days and replace every series."""
        self.show(self._stats.figures(Period.MONTH))

    def show(self, figures: Figures) -> None:
        for gauge in _ALL:
            gauge.clear()
        adoption, outcomes = figures.adoption, figures.outcomes
        ACTIVE_USERS.labels(window="7d").set(adoption.weekly_active)
        ACTIVE_USERS.labels(window="30d").set(adoption.monthly_active)
        NEW_USERS.set(adoption.new_users)
        known = {*self._subcommands(), "help", "unknown"}
        for name, count in adoption.per_command:
            if name in known:
                COMMAND_USES.labels(subcommand=name).set(count)
        for team in adoption.per_team:  # config teams only (the service drops the rest)
            if not team.small:
                TEAM_USES.labels(team=team.team).set(team.uses)
        for action in outcomes.per_action[:MAX_ACTIONS]:
            REQUESTS.labels(action=action.action).set(action.requested)
            if action.success_rate is not None:
                SUCCESS_RATIO.labels(action=action.action).set(action.success_rate)
        for timing in outcomes.provision_by_engine:
            if timing.group in self._engines:
                _quantiles(PROVISION_SECONDS, timing, engine=timing.group)
        if outcomes.approval_wait is not None:
            _quantiles(APPROVAL_WAIT_SECONDS, outcomes.approval_wait)


def _quantiles(gauge: Gauge, timing: Timing, **labels: str) -> None:
    gauge.labels(quantile="0.5", **labels).set(timing.p50_seconds)
    gauge.labels(quantile="0.9", **labels).set(timing.p90_seconds)
