"""The figures from seeded usage and audit rows, against answers worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.core.db import SessionFactory
from bot.core.feedback_trends import FeedbackTrends
from commands.stats.figures import AuditRow, Period, failure_reason, outcomes, percentile
from commands.stats.service import StatsService
from tests.commands.stats.seeding import NOW, ago, audit, use


@pytest.fixture
def sessions(sqlite_engine: Engine) -> Iterator[SessionFactory]:
    yield sessionmaker(sqlite_engine, expire_on_commit=False)


def service(sessions: SessionFactory, min_group_size: int = 2) -> StatsService:
    return StatsService(
        sessions=sessions,
        clock=lambda: NOW,
        min_group_size=min_group_size,
        teams=["platform", "payments", "search"],
        trends=FeedbackTrends(),
    )


def test_nearest_rank_percentiles() -> None:
    values = [10.0, 1.0, 3.0, 2.0, 7.0, 4.0, 5.0, 6.0, 9.0, 8.0]
    assert percentile(values, 0.5) == 5.0
    assert percentile(values, 0.9) == 9.0
    assert percentile([42.0], 0.9) == 42.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_an_empty_period_has_zeros_and_no_timings(sessions: SessionFactory) -> None:
    use(sessions, "U1", "platform", "whoami", ago(days=40))  # before the 30 days
    figures = service(sessions).figures(Period.MONTH, daily=True)
    adoption = figures.adoption
    assert (adoption.weekly_active, adoption.monthly_active, adoption.new_users) == (0, 0, 0)
    assert adoption.per_command == [] and adoption.per_team == []
    assert len(adoption.daily_active) == 30 and not any(n for _, n in adoption.daily_active)
    assert figures.outcomes.per_action == [] and figures.outcomes.approval_wait is None


def test_adoption_counts_people_commands_teams_and_newcomers(sessions: SessionFactory) -> None:
    use(sessions, "U1", "platform", "whoami", ago(days=40))  # U1 is not new
    use(sessions, "U1", "platform", "db", ago(days=3))
    use(sessions, "U2", "platform", "db", ago(days=10))
    use(sessions, "U2", "platform", "env", ago(days=20))
    use(sessions, "U3", "payments", "db", ago(days=1))
    use(sessions, "U4", "gone-team", "db", ago(days=2))  # a team no longer configured
    use(sessions, "U5", None, "help", ago(days=50))  # outside the period
    adoption = service(sessions).figures(Period.MONTH).adoption
    assert adoption.weekly_active == 3  # U1, U3, U4
    assert adoption.monthly_active == adoption.active_in_period == 4
    assert adoption.new_users == 3  # U2, U3, U4
    assert adoption.uses == 5
    assert adoption.per_command == [("db", 4), ("env", 1)]
    teams = {t.team: t for t in adoption.per_team}
    assert set(teams) == {"platform", "payments"}
    assert (teams["platform"].users, teams["platform"].uses, teams["platform"].small) == (
        2,
        3,
        False,
    )
    assert teams["payments"].small  # one person, under the group size of 2


def test_one_user_in_a_week(sessions: SessionFactory) -> None:
    use(sessions, "U1", "search", "lookup", ago(hours=1))
    figures = service(sessions, min_group_size=1).figures(Period.WEEK, daily=True)
    assert figures.adoption.weekly_active == 1 and figures.adoption.new_users == 1
    assert figures.adoption.per_team[0].small is False
    assert figures.adoption.daily_active[-1][1] == 1


def test_outcomes_pair_requests_with_their_votes_and_results(sessions: SessionFactory) -> None:
    # db.create: two requests on postgres (60 s, 300 s), one on redis that failed.
    local = {"driver": "local"}
    audit(
        sessions,
        "db.create",
        "requested",
        ago(days=2),
        target="postgres:a",
        engine="postgres",
        **local,
    )
    audit(sessions, "db.create", "succeeded", ago(days=2, seconds=-60), target="postgres:a")
    audit(
        sessions,
        "db.create",
        "requested",
        ago(days=1),
        target="postgres:b",
        engine="postgres",
        **local,
    )
    audit(sessions, "db.create", "approved", ago(days=1, seconds=-100), target="postgres:b")
    audit(sessions, "db.create", "approved", ago(days=1, seconds=-200), target="postgres:b")
    audit(sessions, "db.create", "succeeded", ago(days=1, seconds=-300), target="postgres:b")
    audit(sessions, "db.create", "requested", ago(hours=5), target="redis:c", engine="redis")
    detail = "failed while creating user: connection refused to 10.0.0.1"
    audit(sessions, "db.create", "failed", ago(hours=4), target="redis:c", detail=detail)
    # env.create, requested before the period, ready inside it: counts as a provision time.
    audit(
        sessions,
        "env.create",
        "requested",
        ago(days=31),
        target="env:x",
        template="web",
        driver="terraform",
    )
    audit(sessions, "env.create", "succeeded", ago(days=29), target="env:x")
    # env.create denied after 600 s: an approval wait, no provision.
    audit(sessions, "env.create", "requested", ago(days=5), target="env:y")
    audit(sessions, "env.create", "denied", ago(days=5, seconds=-600), target="env:y")
    result = service(sessions).figures(Period.MONTH).outcomes
    per_action = {a.action: a for a in result.per_action}
    assert per_action["db.create"].requested == 3
    assert per_action["db.create"].success_rate == pytest.approx(2 / 3)
    assert per_action["env.create"].requested == 1  # the earlier one is before the period
    assert per_action["env.create"].success_rate == 1.0
    engines = {t.group: t for t in result.provision_by_engine}
    assert set(engines) == {"postgres"}
    assert (engines["postgres"].count, engines["postgres"].p50_seconds) == (2, 60.0)
    assert engines["postgres"].p90_seconds == 300.0
    drivers = {t.group: (t.count, t.p50_seconds, t.p90_seconds) for t in result.provision_by_driver}
    assert drivers == {"local": (2, 60.0, 300.0), "terraform": (1, 2 * 86400, 2 * 86400)}
    by_action = {t.group: t for t in result.provision_by_action}
    assert by_action["env.create"].p50_seconds == 2 * 86400
    assert result.approval_wait is not None
    # The last vote decides: 200 s for postgres:b, 600 s for env:y.
    assert (result.approval_wait.count, result.approval_wait.p50_seconds) == (2, 200.0)
    assert result.approval_wait.p90_seconds == 600.0
    assert result.failures == [("failed while creating user", 1)]


def test_top_five_failure_reasons_most_frequent_first() -> None:
    rows = [
        AuditRow(NOW, "db.create", "failed", None, {}, f"reason {i}: x")
        for i in range(7)
        for _ in range(i + 1)
    ]
    found = outcomes(rows, start=ago(days=1)).failures
    assert [reason for reason, _ in found] == [f"reason {i}" for i in (6, 5, 4, 3, 2)]
    assert failure_reason(None) == failure_reason("  ") == "no reason given"
