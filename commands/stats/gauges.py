"""The stats as Prometheus gauges for Grafana, refreshed by a leader task.

Label values come from fixed sets only: subcommands the router registered (plus help and
unknown), teams named in the config, engines of the config's engine enum, the drivers that
make resources (`Driver`), and audit actions,
which features write as code constants (never from what a request carries), capped at
MAX_ACTIONS. A team below the
minimum group size gets no series, as it gets no line in chat. Values are of the last 30 days.

Feedback: per configured campaign (the NPS feature reports those only), the latest round of
the 30 days with a score, and per action the mean rating of the last 7 days (the newest week
of the trend). A round or an action's week under its survey's group size gets no series;
Grafana draws the trend from the series over time.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

from prometheus_client import Gauge

from bot.core.feedback_trends import WEEK, NpsScore
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
PROVISION_BY_DRIVER_SECONDS = Gauge(
    "platform_bot_stats_provision_by_driver_seconds",
    "Time from request to ready in the last 30 days, by what made it "
    "(local, terraform, kubernetes, humanitec, github), p50 and p90.",
    ["driver", "quantile"],
    multiprocess_mode=_MODE,
)
APPROVAL_WAIT_SECONDS = Gauge(
    "platform_bot_stats_approval_wait_seconds",
    "Time from request to approval decision in the last 30 days, p50 and p90.",
    ["quantile"],
    multiprocess_mode=_MODE,
)
NPS = Gauge(
    "platform_bot_stats_nps",
    "NPS (-100 to 100) of each campaign's latest round with enough answers, last 30 days.",
    ["campaign"],
    multiprocess_mode=_MODE,
)
NPS_ANSWERS = Gauge(
    "platform_bot_stats_nps_answers",
    "Answers of that round, by kind: promoter (9-10), passive (7-8), detractor (0-6).",
    ["campaign", "kind"],
    multiprocess_mode=_MODE,
)
CSAT_AVERAGE = Gauge(
    "platform_bot_stats_csat_average",
    "Mean action rating (1-5) in the last 7 days, by action (enough ratings only).",
    ["action"],
    multiprocess_mode=_MODE,
)
CSAT_RATINGS = Gauge(
    "platform_bot_stats_csat_ratings",
    "Action ratings in the last 7 days, by action (where the mean is shown).",
    ["action"],
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
    PROVISION_BY_DRIVER_SECONDS,
    APPROVAL_WAIT_SECONDS,
    NPS,
    NPS_ANSWERS,
    CSAT_AVERAGE,
    CSAT_RATINGS,
)


class StatsGauges:
    def __init__(
        self,
        *,
        stats: StatsService,
        subcommands: Callable[[], Collection[str]],
        engines: Collection[str],
        drivers: Collection[str],
    ) -> None:
        self._stats = stats
        self._subcommands = subcommands
        self._engines = frozenset(engines)
        self._drivers = frozenset(drivers)

    def refresh(self) -> None:
        """The leader's task: recompute the last 30 days and replace every series."""
        self.show(self._stats.figures(Period.MONTH, feedback=True))

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
        for timing in outcomes.provision_by_driver:
            if timing.group in self._drivers:
                _quantiles(PROVISION_BY_DRIVER_SECONDS, timing, driver=timing.group)
        if outcomes.approval_wait is not None:
            _quantiles(APPROVAL_WAIT_SECONDS, outcomes.approval_wait)
        _feedback(figures)


def _feedback(figures: Figures) -> None:
    latest: dict[str, NpsScore] = {}
    for round_ in figures.feedback.nps:  # by campaign and round number: the last one wins
        if round_.result is not None:
            latest[round_.campaign] = round_.result
    for campaign, score in latest.items():
        NPS.labels(campaign=campaign).set(score.score)
        NPS_ANSWERS.labels(campaign=campaign, kind="promoter").set(score.promoters)
        NPS_ANSWERS.labels(campaign=campaign, kind="passive").set(score.passives)
        NPS_ANSWERS.labels(campaign=campaign, kind="detractor").set(score.detractors)
    last_week = figures.end - WEEK
    shown = [
        week
        for week in figures.feedback.csat
        if week.week_start == last_week and week.average is not None
    ]
    for week in shown[:MAX_ACTIONS]:
        CSAT_AVERAGE.labels(action=week.action).set(week.average or 0.0)
        CSAT_RATINGS.labels(action=week.action).set(week.ratings)


def _quantiles(gauge: Gauge, timing: Timing, **labels: str) -> None:
    gauge.labels(quantile="0.5", **labels).set(timing.p50_seconds)
    gauge.labels(quantile="0.9", **labels).set(timing.p90_seconds)
