"""Maturity results: a team's levels with the next level's descriptor and the trend, the
platform-wide spread and its chart.

The results are those of the latest round with answers (or the latest round, before any
come in). A team's levels show only when at least `min_group_size` of its leads answered
(the round's own copy of that setting); such a team is also left out of the platform spread
(see scoring.py). How answers become levels is scoring.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory
from bot.core.errors import Conflict, NotFound
from bot.core.mrkdwn import escape
from integrations.protocols import ChartRenderer
from surveys.maturity.config import LEVELS
from surveys.maturity.models import (
    MaturityAnswer,
    MaturityDelivery,
    MaturityRespondent,
    MaturityRound,
)
from surveys.maturity.service.scoring import levels_by_dimension, overall_level, spread
from surveys.maturity.service.types import (
    DimensionLevel,
    DimensionSpread,
    PlatformOverview,
    RoundRef,
    TeamResult,
    TrendLine,
)

NO_ROUNDS = "No maturity round has run yet. Admins start one with `/platform maturity start`."


@dataclass(frozen=True)
class _TeamAnswers:
    respondents: int
    by_dimension: dict[str, list[int]]


class ResultsService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        team_names: Mapping[str, str],
        trend_rounds: int,
        charts: ChartRenderer,
        clock: Callable[[], datetime],
    ) -> None:
        """`team_names`: every configured team, key → display name."""
        self._sessions = sessions
        self._team_names = dict(team_names)
        self._trend_rounds = trend_rounds
        self._charts = charts
        self._clock = clock

    def team(self, team: str) -> TeamResult:
        """The team's levels in the current round, and its trend; `NotFound` for a team the
        config does not have, `Conflict` for one the round did not ask."""
        if team not in self._team_names:
            raise NotFound(
                f"There is no team called `{escape(team[:80])}`.",
                suggestions=sorted(self._team_names),
            )
        rounds, answers = self._load()
        current = _current(rounds, answers)
        name = self._team_names[team]
        if team not in current.teams:
            raise Conflict(
                f"Maturity round {current.number} did not ask {escape(name)}: the team has no "
                "leads, or is not listed under `maturity.teams`."
            )
        mine = answers[current.id].get(team, _TeamAnswers(0, {}))
        levels = _shown_levels(current, mine)
        trend_rounds = [r for r in rounds if team in r.teams]
        return TeamResult(
            team=team,
            team_name=name,
            round_number=current.number,
            round_open=self._clock() < current.closes_at,
            asked=self._asked(current.id, team),
            respondents=mine.respondents,
            min_group_size=current.min_group_size,
            dimensions=[
                DimensionLevel(
                    key=d.key,
                    name=d.name,
                    level=levels[d.key],
                    current=d.levels[levels[d.key]],
                    next_level=d.levels.get(levels[d.key] + 1),
                )
                for d in current.dimensions
                if d.key in levels
            ],
            overall=overall_level(levels.values()),
            trend=[
                TrendLine(
                    name=d.name,
                    levels=[
                        _shown_levels(r, answers[r.id].get(team, _TeamAnswers(0, {}))).get(d.key)
                        for r in trend_rounds
                    ],
                )
                for d in current.dimensions
            ],
            rounds_in_trend=[r.number for r in trend_rounds],
        )

    def overview(self) -> PlatformOverview:
        """The current round across the platform: teams' overall levels and the spread."""
        rounds, answers = self._load()
        current = _current(rounds, answers)
        shown: dict[str, dict[str, int]] = {}
        hidden = 0
        for team, found in answers[current.id].items():
            levels = _shown_levels(current, found)
            if levels:
                shown[team] = levels
            elif found.respondents:
                hidden += 1
        counts = spread([d.key for d in current.dimensions], shown.values())
        ranked = sorted(
            (
                (self._team_names.get(t, t), overall_level(v.values()) or 0.0)
                for t, v in shown.items()
            ),
            key=lambda item: (-item[1], item[0]),
        )
        return PlatformOverview(
            round_number=current.number,
            round_open=self._clock() < current.closes_at,
            closes_at=current.closes_at,
            teams_asked=len(current.teams),
            teams_shown=ranked,
            teams_hidden=hidden,
            spread=[DimensionSpread(d.key, d.name, counts[d.key]) for d in current.dimensions],
            min_group_size=current.min_group_size,
        )

    def chart(self, overview: PlatformOverview) -> bytes | None:
        """A PNG of how many teams stand at each level per dimension; None with no team shown."""
        if not overview.teams_shown:
            return None
        return self._charts.stacked_bar_chart(
            title=f"Platform maturity, round {overview.round_number}: teams per level",
            labels=[s.name for s in overview.spread],
            series=[
                (f"Level {level}", [float(s.teams_at[level - 1]) for s in overview.spread])
                for level in LEVELS
            ],
            x_label="teams",
        )

    def _load(self) -> tuple[list[RoundRef], dict[int, dict[str, _TeamAnswers]]]:
        """The last rounds (oldest first) and their answers by team."""
        with self._sessions() as session:
            rows = session.scalars(
                select(MaturityRound)
                .order_by(MaturityRound.number.desc())
                .limit(self._trend_rounds)
            ).all()
            rounds = [RoundRef.of(row) for row in reversed(rows)]
            if not rounds:
                raise NotFound(NO_ROUNDS)
            return rounds, _answers_by_team(session, [r.id for r in rounds])

    def _asked(self, round_id: int, team: str) -> int:
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        MaturityDelivery.round_id == round_id,
                        MaturityDelivery.team == team,
                        MaturityDelivery.kind == "invite",
                    )
                )
                or 0
            )


def _current(rounds: Sequence[RoundRef], answers: Mapping[int, Mapping[str, object]]) -> RoundRef:
    """The latest round with answers, or the latest round when none has any yet."""
    answered = [r for r in rounds if answers.get(r.id)]
    return answered[-1] if answered else rounds[-1]


def _shown_levels(round_: RoundRef, found: _TeamAnswers) -> dict[str, int]:
    """The team's levels, or nothing when too few of its leads answered to show them."""
    if found.respondents < round_.min_group_size:
        return {}
    return levels_by_dimension(found.by_dimension)


def _answers_by_team(session: Session, round_ids: list[int]) -> dict[int, dict[str, _TeamAnswers]]:
    respondents = session.execute(
        select(MaturityRespondent.round_id, MaturityRespondent.team, func.count())
        .where(MaturityRespondent.round_id.in_(round_ids))
        .group_by(MaturityRespondent.round_id, MaturityRespondent.team)
    ).all()
    found: dict[int, dict[str, _TeamAnswers]] = {round_id: {} for round_id in round_ids}
    for round_id, team, count in respondents:
        found[round_id][team] = _TeamAnswers(int(count), {})
    for round_id, team, dimension, level in session.execute(
        select(
            MaturityAnswer.round_id,
            MaturityAnswer.team,
            MaturityAnswer.dimension,
            MaturityAnswer.level,
        ).where(MaturityAnswer.round_id.in_(round_ids))
    ):
        entry = found[round_id].setdefault(team, _TeamAnswers(0, {}))
        entry.by_dimension.setdefault(dimension, []).append(level)
    return found
