"""The `maturity:` section: the questionnaire, which teams it asks, when, and how it counts.

Each dimension has exactly five levels (1 … 5), each with a short `label` (the option people
pick, at most 60 characters so "3 · label" fits Slack's 75-character option text) and a
`description` (what the level looks like, shown beside the question and as "what level 4
looks like"). Without `dimensions` the feature is not set up and `/platform maturity` says
so; an empty list is an error. The team leads come from the core `teams:` section
(`teams.NAME.leads`); `teams` here picks which teams are asked (all teams with leads by
default), and the feature checks at start that each one exists.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from bot.core.config import Section
from surveys.config import UTC, Reminders, Slug, check_cron

LEVELS = (1, 2, 3, 4, 5)
LABEL_LIMIT = 60
DESCRIPTION_LIMIT = 280
MAX_DIMENSIONS = 10  # two blocks each in the modal; Slack allows 100


class Level(Section):
    label: str = Field(min_length=1, max_length=LABEL_LIMIT, description="the option text")
    description: str = Field(
        min_length=1, max_length=DESCRIPTION_LIMIT, description="what this level looks like"
    )


class Dimension(Section):
    key: Slug
    name: str = Field(min_length=1, max_length=40)
    question: str = Field(min_length=1, max_length=150)
    levels: dict[int, Level]

    @field_validator("levels")
    @classmethod
    def _one_to_five(cls, value: dict[int, Level]) -> dict[int, Level]:
        if sorted(value) != list(LEVELS):
            found = ", ".join(str(key) for key in sorted(value)) or "none"
            raise ValueError(f"levels must be exactly 1, 2, 3, 4 and 5 (found: {found})")
        return dict(sorted(value.items()))


TeamKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class MaturitySection(Section):
    schedule: str | None = Field(
        default=None, description="crontab of rounds; none: rounds only by `maturity start`"
    )
    timezone: ZoneInfo = Field(default=UTC, description="IANA zone of the schedule")
    teams: list[TeamKey] | None = Field(
        default=None, description="teams asked (keys of `teams:`); default: all with leads"
    )
    attribute_to: Literal["team", "person"] = Field(
        default="team", description="team: answers are stored without the lead's user id"
    )
    min_group_size: int = Field(
        default=2, ge=1, le=50, description="a team's levels show with this many leads' answers"
    )
    open_days: float = Field(default=14, gt=0, le=90, description="how long a round takes answers")
    reminders: Reminders = Field(default_factory=Reminders)
    trend_rounds: int = Field(default=4, ge=2, le=12, description="rounds the trend shows")
    dimensions: list[Dimension] | None = Field(
        default=None, max_length=MAX_DIMENSIONS, description="the questionnaire"
    )

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @model_validator(mode="after")
    def _questionnaire(self) -> MaturitySection:
        if self.dimensions is not None:
            if not self.dimensions:
                raise ValueError("dimensions must list at least one dimension")
            keys = [d.key for d in self.dimensions]
            if len(set(keys)) != len(keys):
                raise ValueError("dimension keys must be unique")
        if self.teams is not None and len(set(self.teams)) != len(self.teams):
            raise ValueError("teams must not name a team twice")
        if self.schedule is not None and self.dimensions is None:
            raise ValueError("a schedule needs `dimensions`: the questionnaire to send")
        return self
