"""What a person's dashboard holds: every feature's items and the admins' overview.

The items come from `Core.dashboard` (each feature's own source); this service adds what the
core's tables say (failed jobs and command uses today, for admins). Cancelling goes to the
feature that has the request; nobody cancels another person's request, admins included: an
approver who wants it stopped denies it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select

from bot.core.dashboard import CancelOutcome, DashboardItems, DashboardRelay
from bot.core.db import SessionFactory
from bot.core.errors import InvalidInput
from bot.core.identity import Principal
from bot.core.jobs import Job, JobStatus
from bot.core.mrkdwn import escape
from bot.core.policy import Policy
from bot.core.usage import CommandUsage
from commands.home.ids import PolicyAction

REF_MAX = 64


@dataclass(frozen=True)
class Overview:
    """The platform today, for admins."""

    pending_approvals: int
    failed_jobs: int
    commands: int
    people: int


@dataclass(frozen=True)
class Dashboard:
    principal: Principal
    items: DashboardItems
    now: datetime
    overview: Overview | None = None


class HomeService:
    def __init__(
        self,
        *,
        relay: DashboardRelay,
        sessions: SessionFactory,
        policy: Policy,
        clock: Callable[[], datetime],
        zone: ZoneInfo,
    ) -> None:
        self._relay = relay
        self._sessions = sessions
        self._policy = policy
        self._clock = clock
        self._zone = zone

    def dashboard(self, principal: Principal) -> Dashboard:
        items = self._relay.items(principal)
        overview = None
        if self._policy.can(principal, PolicyAction.OVERVIEW).allowed:
            overview = self._overview(items.pending_approvals)
        return Dashboard(
            principal=principal,
            items=items,
            now=self._clock(),
            overview=overview,
        )

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome:
        """Cancel `principal`'s request `ref`; a refusal (not an error) when it cannot be."""
        ref = ref.strip()
        if not ref:
            raise InvalidInput(
                "Which request? `/platform cancel ID`, with the id `/platform requests` shows."
            )
        outcome = self._relay.cancel(principal, ref[:REF_MAX])
        if outcome is None:
            return CancelOutcome(
                False,
                f"You have no request `{escape(ref[:20])}`. `/platform requests` lists yours "
                "with their ids.",
            )
        return outcome

    def today_started_at(self) -> datetime:
        """Midnight in the platform's time zone, as UTC: where "today" begins for admins."""
        local = self._clock().astimezone(self._zone)
        midnight = datetime.combine(local.date(), time(0), tzinfo=self._zone)
        return midnight.astimezone(UTC)

    def _overview(self, pending_approvals: int) -> Overview:
        since = self.today_started_at()
        failed = (
            select(func.count())
            .select_from(Job)
            .where(Job.status == JobStatus.FAILED, Job.finished_at >= since)
            .scalar_subquery()
        )
        used = select(failed, func.count(), func.count(distinct(CommandUsage.user_id))).where(
            CommandUsage.created_at >= since
        )
        with self._sessions() as session:  # one round trip for the three figures
            row = session.execute(used).one()
        return Overview(
            pending_approvals=pending_approvals,
            failed_jobs=int(row[0] or 0),
            commands=int(row[1] or 0),
            people=int(row[2] or 0),
        )
