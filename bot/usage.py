"""Adoption figures: one row per /platform subcommand use, written after the ack."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Index, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, SessionFactory, UtcDateTime, utcnow


class CommandUsage(Base):
    __tablename__ = "command_usage"
    __table_args__ = (Index("ix_command_usage_subcommand_created_at", "subcommand", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[str] = mapped_column(String(32))
    team: Mapped[str | None] = mapped_column(String(64))
    subcommand: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    duration_ms: Mapped[int]


class UsageLog:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def record(
        self, *, user_id: str, team: str | None, subcommand: str, outcome: str, duration_ms: int
    ) -> None:
        with self._sessions.begin() as session:
            session.add(
                CommandUsage(
                    user_id=user_id,
                    team=team,
                    subcommand=subcommand,
                    outcome=outcome,
                    duration_ms=duration_ms,
                )
            )

    def counts(self, *, since: timedelta) -> dict[str, tuple[int, int]]:
        """Uses and distinct users per subcommand over the last `since`."""
        start = utcnow() - since
        with self._sessions() as session:
            rows = session.execute(
                select(
                    CommandUsage.subcommand,
                    func.count(),
                    func.count(func.distinct(CommandUsage.user_id)),
                )
                .where(CommandUsage.created_at >= start)
                .group_by(CommandUsage.subcommand)
            ).all()
        return {name: (uses, users) for name, uses, users in rows}
