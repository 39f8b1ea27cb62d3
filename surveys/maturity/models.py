"""Maturity tables.

A round copies the questionnaire and the teams it asks (`questionnaire`, `teams`), so a
config change never alters what an open round's modal shows or how a past round reads.
`maturity_delivery` is the round's DM ledger (one row per round, team, lead and kind; its
states are `surveys.delivery`'s). `maturity_respondent` records which lead answered for which
team, to refuse a second answer and skip reminders; when the round is attributed to the team
(`attribute_to: team`), `maturity_answer` holds no user id and only the day, and its key is
random, so no column links an answer to its lead.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, JsonDocument, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class MaturitySchedule(Base):
    """The latest schedule occurrence handled (opened or skipped); the next is after it."""

    __tablename__ = "maturity_schedule"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MaturityRound(Base):
    __tablename__ = "maturity_round"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trigger: Mapped[str] = mapped_column(String(16))
    attribute_to: Mapped[str] = mapped_column(String(16))
    min_group_size: Mapped[int] = mapped_column(Integer)
    teams: Mapped[list[Any]] = mapped_column(JsonDocument)
    questionnaire: Mapped[list[Any]] = mapped_column(JsonDocument)
    reminders_planned: Mapped[int] = mapped_column(Integer)
    reminder_every_hours: Mapped[float] = mapped_column(Float)
    reminders_sent: Mapped[int] = mapped_column(Integer)
    audience_size: Mapped[int | None] = mapped_column(Integer)
    close_noticed: Mapped[bool] = mapped_column(Boolean)


class MaturityDelivery(Base):
    __tablename__ = "maturity_delivery"
    __table_args__ = (
        UniqueConstraint("round_id", "team", "user_id", "kind"),
        Index("ix_maturity_delivery_round_id_state_send_after", "round_id", "state", "send_after"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("maturity_round.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(64))
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


class MaturityRespondent(Base):
    """Which lead has answered for which team: refuses a second answer, stops reminders."""

    __tablename__ = "maturity_respondent"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("maturity_round.id", ondelete="CASCADE"), primary_key=True
    )
    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class MaturityAnswer(Base):
    """One level for one dimension, from one lead's answer for their team."""

    __tablename__ = "maturity_answer"
    __table_args__ = (
        CheckConstraint("level >= 1 AND level <= 5", name="level_range"),
        Index("ix_maturity_answer_round_id_team", "round_id", "team"),
    )

    # Random, so the order of keys says nothing about who answered when.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("maturity_round.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str | None] = mapped_column(String(32))  # attribute_to: person only
    answered_on: Mapped[date] = mapped_column(Date)
