"""The NPS and CSAT trend of `/platform stats`, on both backends: the figures the surveys offer
through `Core.feedback_trends` equal what a plain computation over their tables gives, and a
group under its survey's minimum size has a count but no figure."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.db import SessionFactory
from bot.core.feedback_trends import (
    WEEK,
    CsatWeek,
    FeedbackTrends,
    NpsRoundResult,
    week_windows,
)
from bot.emulator.blockkit import check_message_blocks
from bot.runtime.config import parse_config
from commands.stats.figures import Adoption, Feedback, Figures, Outcomes, Period
from commands.stats.service import StatsService
from commands.stats.views import build_stats
from integrations.fakes import FakeMessenger
from surveys.config import SurveysSection
from surveys.csat.models import CsatRequest
from surveys.csat.service import CsatService
from surveys.csat.views import CsatMessageBuilder
from surveys.delivery import DmOutbox
from surveys.nps.models import NpsAnswer, NpsRound
from surveys.nps.service.trend import NpsTrend
from surveys.nps.service.types import CampaignCatalog
from tests.commands.stats.seeding import NOW, ago, csat, nps_round

SURVEYS = """
surveys:
  campaigns:
    - {name: pulse, schedule: "0 10 * * mon", audience: {kind: everyone}, min_group_size: 3}
    - {name: quarterly, schedule: "0 10 1 * *", audience: {kind: everyone}}
  csat: {min_group_size: 3}
"""
START = NOW - timedelta(days=30)


def surveys_section() -> SurveysSection:
    return parse_config(SURVEYS, "t.yaml", {}).surveys


def stats(sessions: SessionFactory, section: SurveysSection | None = None) -> StatsService:
    section = section or surveys_section()
    trends = FeedbackTrends()
    trends.attach_nps(NpsTrend(sessions=sessions, catalog=CampaignCatalog(section.campaigns)))
    trends.attach_csat(
        CsatService(
            sessions=sessions,
            config=section.csat,
            outbox=DmOutbox.paced(FakeMessenger(), section.delivery, sessions),
            messages=CsatMessageBuilder(),
            clock=lambda: NOW,
        )
    )
    return StatsService(
        sessions=sessions, clock=lambda: NOW, min_group_size=5, teams=[], trends=trends
    )


def seed(sessions: SessionFactory) -> None:
    def pulse(number: int, opened_at: datetime, scores: list[int], size: int = 3) -> None:
        nps_round(sessions, "pulse", number, opened_at, scores, min_group_size=size)

    pulse(1, ago(days=40), [10] * 5)  # before the period
    pulse(2, START, [10, 9, 8, 7, 0])  # opened as the period starts
    pulse(3, ago(days=21), [10, 6])  # one under the group size of 3
    pulse(4, ago(days=14), [9, 7, 3])  # at it
    # Opened when the campaign's size was 4: the stricter size holds, so 3 answers are hidden.
    pulse(5, ago(days=7), [10, 10, 10], size=4)
    pulse(6, ago(days=1), [])  # no answers yet
    pulse(7, NOW, [10] * 5)  # opens at the period's end: not in it
    nps_round(sessions, "quarterly", 1, ago(days=10), [10, 10, 10, 10, 0])  # 5 of 5
    nps_round(sessions, "gone", 1, ago(days=5), [10] * 6)  # a campaign no longer configured
    for days, score in ((1, 5), (2, 4), (3, 4)):  # the newest week: 3 ratings, at the size
        csat(sessions, "db.create", ago(days=days), score)
    csat(sessions, "db.create", ago(days=8), 1)  # the week before: 2, one under
    csat(sessions, "db.create", ago(days=9), 2)
    for days in (0.5, 1, 2, 3, 4):
        csat(sessions, "env.create", ago(days=days), [5, 5, 5, 4, 1][int(days)])
    csat(sessions, "env.create", ago(days=7), 2)  # exactly a week back: the newest week
    csat(sessions, "env.create", ago(days=2), None)  # asked, not rated
    for hours in (1, 2, 3):  # the oldest window, two days long
        csat(sessions, "db.create", ago(days=29, hours=hours), 3)
    csat(sessions, "db.create", ago(days=31), 5)  # before the period


def nps_from_tables(sessions: SessionFactory, sizes: dict[str, int]) -> list[tuple[object, ...]]:
    """What the rounds say, worked out from the rows with no code of the features."""
    with sessions() as session:
        rounds = session.scalars(select(NpsRound)).all()
        scores: dict[int, list[int]] = defaultdict(list)
        for round_id, score in session.execute(select(NpsAnswer.round_id, NpsAnswer.score)):
            scores[round_id].append(score)
    expected: list[tuple[object, ...]] = []
    for r in sorted(rounds, key=lambda r: (r.campaign, r.number)):
        if r.campaign not in sizes or not START <= r.opened_at < NOW:
            continue
        values = scores[r.id]
        least = max(sizes[r.campaign], r.min_group_size)
        result: tuple[int, int, int, float] | None = None
        if len(values) >= least:
            promoters = sum(1 for v in values if v >= 9)
            detractors = sum(1 for v in values if v <= 6)
            passives = len(values) - promoters - detractors
            result = (promoters, passives, detractors, 100 * (promoters - detractors) / len(values))
        expected.append((r.campaign, r.number, len(values), least, result))
    return expected


def csat_from_tables(sessions: SessionFactory, least: int) -> set[tuple[object, ...]]:
    with sessions() as session:
        rows = session.execute(
            select(CsatRequest.action, CsatRequest.requested_at, CsatRequest.score)
        ).all()
    cells: dict[tuple[str, datetime], list[int]] = defaultdict(list)
    for action, at, score in rows:
        if score is None or not START <= at < NOW:
            continue
        weeks_back = -((at - NOW) // WEEK) - 1  # (NOW - 7 d, NOW] is 0: weeks start included
        cells[(action, max(NOW - (weeks_back + 1) * WEEK, START))].append(score)
    return {
        (action, start, len(v), round(sum(v) / len(v), 6) if len(v) >= least else None)
        for (action, start), v in cells.items()
    }


def shown_nps(rounds: list[NpsRoundResult]) -> list[tuple[object, ...]]:
    found = []
    for r in rounds:
        result = r.result
        figure = None
        if result is not None:
            figure = (result.promoters, result.passives, result.detractors, result.score)
        found.append((r.campaign, r.number, r.responses, r.min_group_size, figure))
    return found


def shown_csat(weeks: list[CsatWeek]) -> set[tuple[object, ...]]:
    return {
        (w.action, w.week_start, w.ratings, None if w.average is None else round(w.average, 6))
        for w in weeks
    }


def test_the_trend_equals_a_computation_over_the_tables(sessions: SessionFactory) -> None:
    seed(sessions)
    feedback = stats(sessions).figures(Period.MONTH, feedback=True).feedback
    assert shown_nps(feedback.nps) == nps_from_tables(sessions, {"pulse": 3, "quarterly": 5})
    assert shown_csat(feedback.csat) == csat_from_tables(sessions, 3)
    # And by hand, so that a computation gone wrong on both sides would still show.
    by_round = {(r.campaign, r.number): r for r in feedback.nps}
    assert sorted(by_round) == [("pulse", n) for n in range(2, 7)] + [("quarterly", 1)]
    assert by_round[("pulse", 2)].result is not None
    assert by_round[("pulse", 2)].result.score == pytest.approx(20.0)
    assert by_round[("pulse", 3)].result is None and by_round[("pulse", 3)].responses == 2
    assert by_round[("pulse", 4)].result is not None  # exactly the group size
    assert by_round[("pulse", 4)].result.score == 0.0
    assert by_round[("pulse", 5)].result is None and by_round[("pulse", 5)].min_group_size == 4
    assert by_round[("pulse", 6)].responses == 0 and by_round[("pulse", 6)].result is None
    quarterly = by_round[("quarterly", 1)].result
    assert quarterly is not None and (quarterly.promoters, quarterly.score) == (4, 60.0)
    weeks = {(w.action, w.week_start): w for w in feedback.csat}
    newest = NOW - WEEK
    assert weeks[("db.create", newest)].average == pytest.approx(13 / 3)  # at the size
    assert weeks[("db.create", newest - WEEK)].average is None  # one under it
    assert weeks[("db.create", newest - WEEK)].ratings == 2
    assert weeks[("env.create", newest)].ratings == 6  # the one a week back, not the unrated
    assert weeks[("db.create", START)].average == 3.0  # the short oldest window
    assert len(weeks) == 4


def test_the_pooled_week_leaves_hidden_groups_out() -> None:
    week = NOW - WEEK
    feedback = Feedback(
        csat=[
            CsatWeek("db.create", week, 3, 3, 4.0),
            CsatWeek("env.create", week, 6, 3, 5.0),
            CsatWeek("db.rotate", week, 2, 3, None),  # hidden: stays out of the pool
            CsatWeek("db.create", week - WEEK, 2, 3, None),  # a week with nothing shown
        ]
    )
    pooled = feedback.csat_pooled()
    assert [(p.week_start, p.ratings) for p in pooled] == [(week, 9)]
    assert pooled[0].average == pytest.approx((3 * 4.0 + 6 * 5.0) / 9)


def test_an_empty_period_has_no_rounds_and_no_weeks(sessions: SessionFactory) -> None:
    nps_round(sessions, "pulse", 1, ago(days=40), [10] * 5)
    csat(sessions, "db.create", ago(days=40), 5)
    feedback = stats(sessions).figures(Period.MONTH, feedback=True).feedback
    assert feedback.nps == [] and feedback.csat == []
    blocks = json.dumps(build_stats(stats(sessions).figures(Period.MONTH), full=True))
    assert "NPS per round" in blocks and "none in this period" in blocks


def test_without_configured_campaigns_no_round_is_read(sessions: SessionFactory) -> None:
    nps_round(sessions, "pulse", 1, ago(days=2), [10] * 5)
    section = parse_config("surveys: {}", "t.yaml", {}).surveys
    assert stats(sessions, section).figures(Period.WEEK, feedback=True).feedback.nps == []


def test_the_view_shows_the_figures_and_hides_what_is_under_the_size(
    sessions: SessionFactory,
) -> None:
    seed(sessions)
    figures = stats(sessions).figures(Period.MONTH, feedback=True)
    blocks = build_stats(figures, full=True)
    assert check_message_blocks(blocks) == []
    shown = json.dumps(blocks)
    opened = START.strftime("%Y-%m-%d")
    assert (
        f"`pulse` round 2, opened {opened}: *NPS +20* from 5 answers "
        "(2 promoters, 2 passives, 1 detractor)"
    ) in shown
    assert "`pulse` round 3, opened" in shown and "2 answers, fewer than 3: no score" in shown
    assert "`quarterly` round 1" in shown and "*NPS +60* from 5 answers" in shown
    newest = (NOW - WEEK).strftime("%m-%d")
    assert f"Week from {newest}: `env.create` *3.7* (6 ratings)" in shown
    assert "`db.create` *4.3* (3 ratings)" in shown
    assert "`db.create` 2 ratings, fewer than 3" in shown
    assert "gone" not in shown
    assert "/platform nps" not in shown  # the old pointer gave way to the trend
    others = json.dumps(build_stats(figures, full=False))
    assert "NPS per round" not in others and "CSAT" in others  # named only, as admins' part


def test_a_long_trend_keeps_within_slack_limits() -> None:
    weeks = [start for start, _ in week_windows(NOW - timedelta(days=90), NOW)]
    assert len(weeks) == 13 and weeks[0] == NOW - timedelta(days=90)
    hostile = "<!channel> *x*" * 20
    feedback = Feedback(
        nps=[NpsRoundResult(f"c{n}", n, NOW - timedelta(hours=n), 3, 5, None) for n in range(40)],
        csat=[CsatWeek(f"{hostile}.{n}", start, 9, 3, 4.5) for start in weeks for n in range(30)],
    )
    blocks = build_stats(
        Figures(
            period=Period.QUARTER,
            start=NOW - timedelta(days=90),
            end=NOW,
            min_group_size=5,
            adoption=Adoption(0, 0, 0, 0, 0, [], []),
            outcomes=Outcomes([], [], [], [], None, []),
            feedback=feedback,
        ),
        full=True,
    )
    assert check_message_blocks(blocks) == []
    shown = json.dumps(blocks)
    assert "<!channel>" not in shown
    assert "and 30 more" in shown  # 40 rounds, 10 lines
    assert "and 25 more actions" in shown  # 30 actions a week, 5 shown


@pytest.mark.parametrize(
    ("days", "lengths"),
    [(7, [7]), (30, [2, 7, 7, 7, 7]), (1, [1]), (14, [7, 7])],
)
def test_weeks_count_back_from_the_end(days: int, lengths: list[int]) -> None:
    windows = week_windows(NOW - timedelta(days=days), NOW)
    assert [(end - start).days for start, end in windows] == lengths
    assert windows[-1][1] == NOW and windows[0][0] == NOW - timedelta(days=days)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
