"""Office hours: sessions (one per schedule occurrence), reminders, questions, attendees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, JsonDocument, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class OfficeHoursSession(Base):
    __tablename__ = "office_hours_session"
    __table_args__ = (UniqueConstraint("schedule", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[str] = mapped_column(String(80))
    hosts: Mapped[list[Any]] = mapped_column(JsonDocument)
    follow_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OfficeHoursReminder(Base):
    """A reminder posted (or claimed for posting) for a session; the key makes it once."""

    __tablename__ = "office_hours_reminder"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("office_hours_session.id", ondelete="CASCADE"), primary_key=True
    )
    minutes_before: Mapped[int] = mapped_column(Integer, primary_key=True)
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))


class OfficeHoursQuestion(Base):
    __tablename__ = "office_hours_question"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("office_hours_session.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OfficeHoursAttendee(Base):
    __tablename__ = "office_hours_attendee"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("office_hours_session.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    follow_up_state: Mapped[str | None] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
