"""What the NPS services take and return: the campaigns, rounds, results, and the DMs' content."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from surveys.config import UTC, ByName, Campaign
from surveys.delivery import Content
from surveys.nps.models import NpsRound


class CampaignCatalog(ByName[Campaign]):
    """The configured campaigns."""

    def __init__(self, campaigns: Iterable[Campaign]) -> None:
        super().__init__(
            campaigns,
            unknown="There is no NPS campaign called `{name}`.",
            none="No NPS campaigns are configured (surveys.campaigns).",
        )

    def zone_of(self, name: str) -> ZoneInfo:
        """The campaign's zone: the fallback for people whose own zone is unknown."""
        campaign = self.find(name)
        return campaign.timezone if campaign else UTC


def describe_audience(campaign: Campaign) -> str:
    audience = campaign.audience
    if audience.kind == "everyone":
        return "all active people"
    if audience.kind == "channel":
        return f"members of <#{audience.channel}>"
    if audience.kind == "usergroup":
        return f"usergroup @{audience.usergroup}"
    return f"{len(audience.users)} listed people"


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"
    ALREADY_ANSWERED = "already_answered"
    CLOSED = "closed"
    NOT_INVITED = "not_invited"


@dataclass(frozen=True)
class RoundRef:
    id: int
    number: int
    campaign: str
    question: str
    follow_up: str
    anonymity: str
    min_group_size: int
    opened_at: datetime
    closes_at: datetime

    @classmethod
    def of(cls, row: NpsRound) -> RoundRef:
        return cls(
            id=row.id,
            number=row.number,
            campaign=row.campaign,
            question=row.question,
            follow_up=row.follow_up,
            anonymity=row.anonymity,
            min_group_size=row.min_group_size,
            opened_at=row.opened_at,
            closes_at=row.closes_at,
        )


class NpsMessages(Protocol):
    """The DMs the services post and edit; `views.NpsMessageBuilder` builds them."""

    def invitation(self, round_: RoundRef, *, kind: str) -> Content: ...

    def thank_you(self, round_: RoundRef, *, score: int) -> Content: ...

    def notice(self, text: str) -> Content: ...


@dataclass(frozen=True)
class DeliveryProgress:
    audience: int | None  # None until the fan-out has worked out who to ask
    reached: int = 0
    waiting: int = 0
    failed: int = 0
    # When the next waiting invitation goes out, in its recipient's time zone; None when
    # nothing waits or it is due now.
    next_local: datetime | None = None


@dataclass(frozen=True)
class RoundSummary:
    id: int
    number: int
    scheduled_for: datetime
    closes_at: datetime
    delivery: DeliveryProgress
    responded: int
    answers: int
    nps: float | None
    distribution: list[int]

    @property
    def invited(self) -> int:
        """People the invitation reached (or may have: it is never posted twice)."""
        return self.delivery.reached

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None


@dataclass(frozen=True)
class CampaignStatus:
    name: str
    schedule: str
    timezone: str
    audience: str
    anonymity: str
    paused: bool
    next_run: datetime | None
    last_round: RoundSummary | None


@dataclass(frozen=True)
class TeamResult:
    team: str
    answers: int
    nps: float


@dataclass(frozen=True)
class NpsResults:
    campaign: str
    anonymity: str
    min_group_size: int
    rounds: list[RoundSummary]
    teams: list[TeamResult] = field(default_factory=list)
    hidden_teams: int = 0
    comments: list[str] = field(default_factory=list)

    @property
    def latest(self) -> RoundSummary | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def suppressed(self) -> bool:
        """Too few answers in the latest round to show scores without exposing anyone."""
        latest = self.latest
        return latest is not None and 0 < latest.answers < self.min_group_size
