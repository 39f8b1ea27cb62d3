"""NPS tables.

In anonymous mode `nps_answer` has no user id and no time finer than the day, and its key is
random, so neither a column nor the order of keys links an answer to `nps_respondent` (who
answered, kept for reminders). `nps_delivery` is the fan-out's ledger: one row per round,
person and message kind, unique, moved pending → sending → sent (or unconfirmed, failed,
skipped) by conditional updates; its states and guarantees are `surveys.delivery`'s.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, UtcDateTime
from surveys.pace import SurveyPace  # noqa: F401  (registers survey_pace, every survey's pace)

BigId = BigInteger().with_variant(Integer(), "sqlite")


class NpsCampaignState(Base):
    """What changes about a configured campaign at run time: pausing and the last run seen."""

    __tablename__ = "nps_campaign"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean)
    # The latest schedule occurrence handled (opened or skipped); the next is after it.
    last_scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NpsRound(Base):
    __tablename__ = "nps_round"
    __table_args__ = (
        UniqueConstraint("campaign", "scheduled_for"),
        # A unique index rather than a constraint: SQLite adds it without rebuilding the table.
        Index("ix_nps_round_campaign_number", "campaign", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(64))
    # 1, 2, … within the campaign: what people and admins see ("round 3 of pulse").
    number: Mapped[int] = mapped_column(Integer)
    scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trigger: Mapped[str] = mapped_column(String(16))
    anonymity: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(String(150))
    follow_up: Mapped[str] = mapped_column(String(150))
    min_group_size: Mapped[int] = mapped_column(Integer)
    reminders_planned: Mapped[int] = mapped_column(Integer)
    reminder_every_hours: Mapped[float] = mapped_column(Float)
    reminders_sent: Mapped[int] = mapped_column(Integer)
    audience_size: Mapped[int | None] = mapped_column(Integer)


class NpsDelivery(Base):
    __tablename__ = "nps_delivery"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", "kind"),
        Index("ix_nps_delivery_round_id_state_send_after", "round_id", "state", "send_after"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("nps_round.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    tz: Mapped[str | None] = mapped_column(String(64))
    send_after: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NpsRespondent(Base):
    """Who has answered a round: used only to stop reminders and refuse a second answer."""

    __tablename__ = "nps_respondent"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("nps_round.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class NpsAnswer(Base):
    __tablename__ = "nps_answer"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score_range"),
        Index("ix_nps_answer_round_id", "round_id"),
    )

    # Random, so the order of keys says nothing about who answered when.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("nps_round.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(32))  # attributed mode only
    answered_on: Mapped[date] = mapped_column(Date)
