"""What the office-hours services take and return, and the messages they post."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core.errors import NotFound
from surveys.config import ByName, OfficeHours
from surveys.delivery import Content
from surveys.office_hours.models import OfficeHoursSession

QUESTION_LIMIT = 2000


@dataclass(frozen=True)
class SessionInfo:
    id: int
    schedule: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    timezone: ZoneInfo
    channel: str
    hosts: list[str]
    follow_up: str

    @classmethod
    def of(cls, row: OfficeHoursSession, schedule: OfficeHours) -> SessionInfo:
        return cls(
            id=row.id,
            schedule=row.schedule,
            sequence=row.sequence,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            timezone=schedule.timezone,
            channel=row.channel,
            hosts=[str(h) for h in row.hosts],
            follow_up=schedule.follow_up,
        )


@dataclass(frozen=True)
class QuestionInfo:
    user_id: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Overview:
    session: SessionInfo
    questions: list[QuestionInfo]
    attendees: int


class OfficeHoursMessages(Protocol):
    """What the services post; `views.OfficeHoursMessageBuilder` builds it."""

    def reminder(self, session: SessionInfo, *, minutes_before: int, questions: int) -> Content: ...

    def host_brief(self, session: SessionInfo, questions: list[QuestionInfo]) -> Content: ...

    def follow_up(self, session: SessionInfo) -> Content: ...


class Schedules(ByName[OfficeHours]):
    """The configured office hours."""

    def __init__(self, schedules: Iterable[OfficeHours]) -> None:
        super().__init__(
            schedules,
            unknown="There are no office hours called `{name}`.",
            none="No office hours are configured (surveys.office_hours).",
        )

    def info(self, row: OfficeHoursSession) -> SessionInfo:
        """The session as shown; `NotFound` when its schedule is no longer configured."""
        schedule = self.find(row.schedule)
        if schedule is None:
            raise NotFound("These office hours are no longer configured.")
        return SessionInfo.of(row, schedule)
