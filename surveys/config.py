"""The `surveys:` section of the platform config: NPS campaigns, action CSAT, office hours.

The NPS, CSAT and office-hours features all read this one section (see sections.py).
Time zones are pydantic `ZoneInfo` fields: an unknown zone is refused at load, and the
error names its key (`surveys.campaigns.0.timezone: invalid timezone: Mars/Olympus`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import time, timedelta
from typing import Annotated, Generic, Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import Field, field_validator, model_validator

from bot.core.config import Section
from bot.core.errors import NotFound
from bot.core.mrkdwn import escape_truncated

Member = Annotated[str, Field(min_length=1, description="a Slack user id (U…) or an email")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
UTC = ZoneInfo("UTC")


def check_cron(value: str) -> str:
    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a crontab (minute hour day month weekday): {exc}"
        ) from None
    return value


class WorkingHours(Section):
    start: time = time(9, 0)
    end: time = time(17, 0)
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("working_hours.end must be after start")
        if not self.days:
            raise ValueError("working_hours.days must name at least one day")
        return self


class DeliverySection(Section):
    messages_per_minute: int = Field(
        default=300, ge=1, le=6000, description="chat.postMessage pace for survey DMs"
    )
    senders: int = Field(default=4, ge=1, le=32, description="concurrent Web API calls")
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    time_scale: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="shrinks rate windows and Retry-After waits; 1 in production",
    )


class Audience(Section):
    kind: Literal["channel", "usergroup", "everyone", "users"]
    channel: str | None = Field(default=None, description="channel id (C…) for kind: channel")
    usergroup: str | None = Field(default=None, description="handle for kind: usergroup")
    users: list[Member] = Field(default_factory=list, description="for kind: users")

    @model_validator(mode="after")
    def _matching_field(self) -> Audience:
        if self.kind == "channel" and not (self.channel and CHANNEL_ID.match(self.channel)):
            raise ValueError("audience kind channel needs `channel`, a channel id such as C0123")
        if self.kind == "usergroup" and not self.usergroup:
            raise ValueError("audience kind usergroup needs `usergroup` (its handle)")
        if self.kind == "users" and not self.users:
            raise ValueError("audience kind users needs a non-empty `users` list")
        return self


class Reminders(Section):
    count: int = Field(default=2, ge=0, le=2, description="at most two reminders")
    every_hours: float = Field(default=72, gt=0, description="spacing after the invitation")


class Campaign(Section):
    name: Slug
    schedule: str = Field(description="crontab: minute hour day month weekday")
    timezone: ZoneInfo = Field(default=UTC, description="IANA zone of the schedule")
    audience: Audience
    question: str = Field(
        default="How likely are you to recommend the platform to a colleague?",
        min_length=1,
        max_length=150,
    )
    follow_up: str = Field(
        default="What is the main reason for your score?", min_length=1, max_length=150
    )
    reminders: Reminders = Field(default_factory=Reminders)
    open_days: float = Field(default=7, gt=0, le=90, description="how long a round takes answers")
    anonymity: Literal["anonymous", "attributed"] = "anonymous"
    min_group_size: int = Field(default=5, ge=1, le=100)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)


class Csat(Section):
    enabled: bool = True
    period_days: float = Field(default=30, gt=0, description="at most one request per user")
    question: str = Field(default="How did that go?", min_length=1, max_length=150)
    min_group_size: int = Field(
        default=5,
        ge=1,
        le=100,
        description="an action's weekly average is shown only with this many ratings",
    )


class OfficeHours(Section):
    name: Slug
    schedule: str = Field(description="crontab of session starts")
    timezone: ZoneInfo = Field(default=UTC, description="IANA zone of the schedule")
    channel: str = Field(min_length=2, description="channel id or #name for reminders")
    duration_minutes: int = Field(default=60, ge=5, le=480)
    hosts: list[Member] = Field(min_length=1, description="rotated session by session")
    hosts_per_session: int = Field(default=1, ge=1, le=5)
    reminders_minutes_before: list[int] = Field(
        default_factory=lambda: [1440, 15], description="minutes before a session"
    )
    follow_up: str = Field(
        default="How useful was today's office hours?", min_length=1, max_length=150
    )

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("reminders_minutes_before")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(minutes <= 0 or minutes > 14 * 1440 for minutes in value) or len(value) > 5:
            raise ValueError("up to 5 reminders, each 1 minute to 14 days before the session")
        return sorted(set(value), reverse=True)


class SurveysSection(Section):
    admin_channel: str | None = Field(
        default=None, description="where survey notices for admins go (channel id or #name)"
    )
    missed_run_grace_minutes: int = Field(default=360, ge=0, le=7 * 1440)
    delivery: DeliverySection = Field(default_factory=DeliverySection)
    campaigns: list[Campaign] = Field(default_factory=list)
    csat: Csat = Field(default_factory=Csat)
    office_hours: list[OfficeHours] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> SurveysSection:
        for kind, names in (
            ("campaign", [c.name for c in self.campaigns]),
            ("office_hours", [o.name for o in self.office_hours]),
        ):
            if len(set(names)) != len(names):
                raise ValueError(f"{kind} names must be unique")
        return self

    @property
    def missed_run_grace(self) -> timedelta:
        return timedelta(minutes=self.missed_run_grace_minutes)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


NamedT = TypeVar("NamedT", bound=_Named)


class ByName(Generic[NamedT]):
    """Configured entries (campaigns, office hours) by name, in config order; asking for one
    that is not there is a `NotFound` that lists the names there are."""

    def __init__(self, entries: Iterable[NamedT], *, unknown: str, none: str) -> None:
        """`unknown` says a name is not configured (`{name}` is replaced); `none` that no
        entry is."""
        self._by_name = {entry.name: entry for entry in entries}
        self._unknown = unknown
        self._none = none

    def __iter__(self) -> Iterator[NamedT]:
        return iter(self._by_name.values())

    def find(self, name: str) -> NamedT | None:
        """The entry, or None when it is not (or no longer) configured."""
        return self._by_name.get(name)

    def get(self, name: str | None) -> NamedT:
        """The entry called `name`, or the first one for None."""
        if not self._by_name:
            raise NotFound(self._none)
        if name is None:
            return next(iter(self._by_name.values()))
        found = self._by_name.get(name)
        if found is None:
            shown = escape_truncated(name, 80)
            raise NotFound(self._unknown.format(name=shown), suggestions=sorted(self._by_name))
        return found
