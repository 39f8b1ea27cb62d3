"""StatsService: reads the usage and audit tables (core's, a stable contract) into `Figures`.

Adoption comes from `command_usage` (one row per /platform use, with the caller's first team
as the identity service knew it); outcomes from `audit_record` (see `figures.outcomes` for what
is derived from which records). The surveys' tables are the surveys' own: NPS per round and
CSAT per week come from them through `Core.feedback_trends`, which applies their minimum
group sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from bot.core.audit import AuditRecord
from bot.core.db import SessionFactory
from bot.core.feedback_trends import FeedbackTrends
from bot.core.usage import CommandUsage
from commands.stats.figures import (
    Adoption,
    AuditRow,
    Feedback,
    Figures,
    Period,
    TeamUse,
    outcomes,
)

# A request opened up to this long before the period still pairs with its outcome inside it.
LOOKBACK = timedelta(days=30)
_OUTCOMES = ("requested", "approved", "denied", "succeeded", "failed", "cancelled", "expired")
# Bounds the rows one answer reads: a workspace far past this is better served by Grafana.
MAX_AUDIT_ROWS = 200_000


class StatsService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        clock: Callable[[], datetime],
        min_group_size: int,
        teams: Collection[str],
        trends: FeedbackTrends,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._min_group_size = min_group_size
        self._teams = frozenset(teams)
        self._trends = trends

    def figures(self, period: Period, *, daily: bool = False, feedback: bool = False) -> Figures:
        """The period's figures; `daily` adds active users per day, `feedback` the surveys'
        trend (both only for who sees them: each costs queries)."""
        end = self._clock()
        start = end - timedelta(days=period.days)
        with self._sessions() as session:
            adoption = self._adoption(session, start, end, daily=daily)
            rows = self._audit_rows(session, start - LOOKBACK, end)
        trend = Feedback()
        if feedback:
            trend = Feedback(
                nps=self._trends.nps_rounds(start=start, end=end),
                csat=self._trends.csat_weeks(start=start, end=end),
            )
        return Figures(
            period=period,
            start=start,
            end=end,
            min_group_size=self._min_group_size,
            adoption=adoption,
            outcomes=outcomes(rows, start=start),
            feedback=trend,
        )

    def _adoption(
        self, session: Session, start: datetime, end: datetime, *, daily: bool
    ) -> Adoption:
        in_period = (CommandUsage.created_at >= start) & (CommandUsage.created_at < end)
        per_command = session.execute(
            select(CommandUsage.subcommand, func.count())
            .where(in_period)
            .group_by(CommandUsage.subcommand)
        ).all()
        per_team = session.execute(
            select(CommandUsage.team, func.count(distinct(CommandUsage.user_id)), func.count())
            .where(in_period, CommandUsage.team.is_not(None))
            .group_by(CommandUsage.team)
        ).all()
        firsts = (
            select(CommandUsage.user_id)
            .where(CommandUsage.created_at < end)
            .group_by(CommandUsage.user_id)
            .having(func.min(CommandUsage.created_at) >= start)
            .subquery()
        )
        new_users = session.scalar(select(func.count()).select_from(firsts)) or 0
        teams = [
            TeamUse(team, users, uses, small=users < self._min_group_size)
            for team, users, uses in per_team
            if team in self._teams  # a team since removed from the config is nobody's now
        ]
        return Adoption(
            weekly_active=self._active(session, end - timedelta(days=7), end),
            monthly_active=self._active(session, end - timedelta(days=30), end),
            active_in_period=self._active(session, start, end),
            new_users=new_users,
            uses=sum(count for _, count in per_command),
            per_command=sorted(((n, c) for n, c in per_command), key=lambda i: (-i[1], i[0])),
            per_team=sorted(teams, key=lambda t: (-t.uses, t.team)),
            daily_active=self._daily(session, start, end) if daily else [],
        )

    @staticmethod
    def _active(session: Session, start: datetime, end: datetime) -> int:
        query = select(func.count(distinct(CommandUsage.user_id))).where(
            CommandUsage.created_at >= start, CommandUsage.created_at < end
        )
        return session.scalar(query) or 0

    def _daily(self, session: Session, start: datetime, end: datetime) -> list[tuple[date, int]]:
        """Distinct users per UTC day, by day windows (portable; at most 90 small queries)."""
        days: list[tuple[date, int]] = []
        day = end - timedelta(days=(end - start).days)
        while day < end:
            days.append((day.date(), self._active(session, day, day + timedelta(days=1))))
            day += timedelta(days=1)
        return days

    @staticmethod
    def _audit_rows(session: Session, since: datetime, end: datetime) -> list[AuditRow]:
        query = (
            select(
                AuditRecord.created_at,
                AuditRecord.action,
                AuditRecord.outcome,
                AuditRecord.target,
                AuditRecord.inputs,
                AuditRecord.detail,
            )
            .where(
                AuditRecord.created_at >= since,
                AuditRecord.created_at < end,
                AuditRecord.outcome.in_(_OUTCOMES),
            )
            .order_by(AuditRecord.created_at.desc(), AuditRecord.id.desc())
            .limit(MAX_AUDIT_ROWS)
        )
        # Newest first under the limit (the period's end matters most), then back in time order.
        return [AuditRow(*row) for row in reversed(session.execute(query).all())]
