"""The next office hours on a person's dashboard: the next session of each schedule.

Read only (the leader's tick creates sessions; a dashboard drawn on every App Home open must
not), one query for all schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from bot.core.dashboard import CancelOutcome, DashboardItems, EventItem
from bot.core.db import SessionFactory
from bot.core.identity import Principal
from surveys.office_hours.models import OfficeHoursSession


class OfficeHoursDashboard:
    def __init__(self, *, sessions: SessionFactory, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    def items_for(self, principal: Principal) -> DashboardItems:
        now = self._clock()
        first = (
            select(OfficeHoursSession.schedule, func.min(OfficeHoursSession.starts_at))
            .where(OfficeHoursSession.ends_at > now)
            .group_by(OfficeHoursSession.schedule)
            .subquery()
        )
        query = (
            select(OfficeHoursSession)
            .join(
                first,
                (first.c.schedule == OfficeHoursSession.schedule)
                & (first.c[1] == OfficeHoursSession.starts_at),
            )
            .order_by(OfficeHoursSession.starts_at)
        )
        with self._sessions() as session:
            rows = session.scalars(query).all()
            sessions = [
                EventItem(
                    what=f"Office hours: {row.schedule} (/platform office-hours {row.schedule})",
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                )
                for row in rows
            ]
        return DashboardItems(sessions=sessions)

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        return None  # nothing of office hours is a request
