"""What the maturity services take and return: rounds, outcomes, results, the DMs' content."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from surveys.delivery import Content
from surveys.maturity.config import Dimension, Level
from surveys.maturity.models import MaturityRound


@dataclass(frozen=True)
class RoundRef:
    """A round as services and views need it, with the questionnaire it was opened with."""

    id: int
    number: int
    opened_at: datetime
    closes_at: datetime
    attribute_to: str
    min_group_size: int
    teams: tuple[str, ...]
    dimensions: tuple[Dimension, ...]

    @classmethod
    def of(cls, row: MaturityRound) -> RoundRef:
        return cls(
            id=row.id,
            number=row.number,
            opened_at=row.opened_at,
            closes_at=row.closes_at,
            attribute_to=row.attribute_to,
            min_group_size=row.min_group_size,
            teams=tuple(str(team) for team in row.teams),
            dimensions=tuple(Dimension.model_validate(d) for d in row.questionnaire),
        )


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"
    ALREADY_ANSWERED = "already_answered"
    CLOSED = "closed"
    NOT_INVITED = "not_invited"


@dataclass(frozen=True)
class Invitee:
    """Who a DM asks, and for which team (a lead of two teams is asked once for each)."""

    team: str
    team_name: str


class MaturityMessages(Protocol):
    """The DMs the services post and edit; `views.MaturityMessageBuilder` builds them."""

    def invitation(self, round_: RoundRef, invitee: Invitee, *, kind: str) -> Content: ...

    def thank_you(self, round_: RoundRef, invitee: Invitee) -> Content: ...

    def notice(self, text: str) -> Content: ...


@dataclass(frozen=True)
class DimensionLevel:
    """A team's level on one dimension, and what the next level up looks like."""

    key: str
    name: str
    level: int
    current: Level
    next_level: Level | None  # None at level 5


@dataclass(frozen=True)
class TrendLine:
    """One dimension's team level per round, oldest first; None: too few answers that round."""

    name: str
    levels: list[int | None]


@dataclass(frozen=True)
class TeamResult:
    team: str
    team_name: str
    round_number: int
    round_open: bool
    asked: int  # leads the round asked for this team
    respondents: int
    min_group_size: int
    dimensions: list[DimensionLevel] = field(default_factory=list)
    overall: float | None = None
    trend: list[TrendLine] = field(default_factory=list)
    rounds_in_trend: list[int] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        """Enough leads answered to show the levels without singling anyone out."""
        return self.respondents >= self.min_group_size and bool(self.dimensions)


@dataclass(frozen=True)
class DimensionSpread:
    """How many teams stand at each level (1 … 5) of one dimension."""

    key: str
    name: str
    teams_at: list[int]  # index 0 is level 1


@dataclass(frozen=True)
class PlatformOverview:
    round_number: int
    round_open: bool
    closes_at: datetime
    teams_asked: int
    teams_shown: list[tuple[str, float]]  # (team name, overall level), highest first
    teams_hidden: int  # answered, but fewer than min_group_size leads: not counted
    spread: list[DimensionSpread]
    min_group_size: int
