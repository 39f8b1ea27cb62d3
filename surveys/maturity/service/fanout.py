"""The maturity fan-out: which leads a round asks, reminders, posting, and admin notices.

A round asks each lead of each of its teams (the core config's `teams.NAME.leads`), one
pending `maturity_delivery` row per team and lead, due at the start of the lead's working
hours. Reminders go to leads who have not answered for that team. `send_due` hands the
round's ledger to the outbox (`surveys.delivery`), which posts each row at most once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory, rowcount
from bot.core.errors import NotFound, PlatformError
from bot.core.identity import IdentityService
from bot.core.jobs import JobQueue
from bot.core.mrkdwn import escape
from integrations.protocols import Messenger
from surveys.config import WorkingHours
from surveys.delivery import REACHED, DeliveryState, DmOutbox, post_admin_notice
from surveys.maturity.ids import JobKind
from surveys.maturity.models import MaturityDelivery, MaturityRespondent, MaturityRound
from surveys.maturity.service.ledger import RoundDeliveries, insert_deliveries, recover_stale
from surveys.maturity.service.types import MaturityMessages, RoundRef
from surveys.schedule import next_working_moment, zone

logger = logging.getLogger(__name__)


class FanOutService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        timezone: ZoneInfo,
        hours: WorkingHours,
        admin_channel: str | None,
        team_names: Mapping[str, str],
        identity: IdentityService,
        outbox: DmOutbox,
        messenger: Messenger,
        jobs: JobQueue,
        messages: MaturityMessages,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._timezone = timezone
        self._hours = hours
        self._admin_channel = admin_channel
        self._team_names = dict(team_names)
        self._identity = identity
        self._outbox = outbox
        self._messenger = messenger
        self._jobs = jobs
        self._messages = messages
        self._clock = clock
        self._worker = uuid.uuid4().hex[:12]

    def prepare_round(self, round_id: int) -> int:
        """One pending invitation per team and lead; returns how many."""
        with self._sessions() as session:
            row = session.get(MaturityRound, round_id)
            if row is None:
                raise NotFound(f"Maturity round {round_id} does not exist.")
            round_ = RoundRef.of(row)
        rows: list[dict[str, Any]] = []
        leaderless: list[str] = []
        for team in round_.teams:
            leads = self._leads(team)
            if not leads:
                leaderless.append(escape(self._team_names.get(team, team)))
            for lead in leads:
                tz = self._tz_of(lead)
                due = next_working_moment(round_.opened_at, zone(tz, self._timezone), self._hours)
                rows.append(_pending(round_id, team, lead, "invite", tz, due))
        with self._sessions.begin() as session:
            insert_deliveries(session, rows)
            session.execute(
                update(MaturityRound)
                .where(MaturityRound.id == round_id)
                .values(audience_size=len(rows))
            )
        if leaderless:
            self.notify_admins(
                f"Maturity round {round_.number} asks nobody for {', '.join(leaderless)}: "
                "the team has no leads in the platform config (`teams.NAME.leads`)."
            )
        logger.info("maturity round %d: %d invitation(s)", round_.number, len(rows))
        return len(rows)

    def _leads(self, team: str) -> list[str]:
        try:
            return self._identity.team_leads(team)
        except NotFound:
            return []  # the team left the config after the round opened

    def _tz_of(self, user_id: str) -> str | None:
        try:
            return self._identity.principal(user_id).tz
        except PlatformError:
            return None  # the schedule's zone stands in

    def plan_reminders(self) -> None:
        """Queue each open round's next reminder once it is due (part of the leader's tick)."""
        now = self._clock()
        with self._sessions() as session:
            candidates = session.execute(
                select(MaturityRound.id, MaturityRound.opened_at, MaturityRound.closes_at)
                .add_columns(MaturityRound.reminders_sent, MaturityRound.reminder_every_hours)
                .where(
                    MaturityRound.closes_at > now,
                    MaturityRound.reminders_sent < MaturityRound.reminders_planned,
                    MaturityRound.audience_size.is_not(None),
                )
            ).all()
        for round_id, opened_at, closes_at, sent, every_hours in candidates:
            due = opened_at + timedelta(hours=every_hours * (sent + 1))
            if due <= now and due < closes_at:
                self._plan_reminder(round_id, sent + 1, now)

    def _plan_reminder(self, round_id: int, number: int, now: datetime) -> None:
        kind = f"reminder-{number}"
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(MaturityRound)
                .where(MaturityRound.id == round_id, MaturityRound.reminders_sent == number - 1)
                .values(reminders_sent=number)
            )
            if rowcount(claimed) != 1:
                return  # another tick planned it
            answered = exists().where(
                and_(
                    MaturityRespondent.round_id == MaturityDelivery.round_id,
                    MaturityRespondent.team == MaturityDelivery.team,
                    MaturityRespondent.user_id == MaturityDelivery.user_id,
                )
            )
            unanswered = session.execute(
                select(MaturityDelivery.team, MaturityDelivery.user_id, MaturityDelivery.tz).where(
                    MaturityDelivery.round_id == round_id,
                    MaturityDelivery.kind == "invite",
                    MaturityDelivery.state.in_(list(REACHED)),
                    ~answered,
                )
            ).all()
            rows = [
                _pending(
                    round_id,
                    team,
                    user_id,
                    kind,
                    tz,
                    next_working_moment(now, zone(tz, self._timezone), self._hours),
                )
                for team, user_id, tz in unanswered
            ]
            insert_deliveries(session, rows)
            self._enqueue_send(session, round_id, now, label=kind)
        logger.info("maturity round %d: reminder %d for %d lead(s)", round_id, number, len(rows))

    def notice_closed(self) -> None:
        """Tell admins once when a round has closed (part of the leader's tick)."""
        now = self._clock()
        with self._sessions.begin() as session:
            closed = session.execute(
                update(MaturityRound)
                .where(MaturityRound.closes_at <= now, MaturityRound.close_noticed.is_(False))
                .values(close_noticed=True)
                .returning(MaturityRound.id, MaturityRound.number)
            ).all()
            answered = {
                round_id: int(count)
                for round_id, count in session.execute(
                    select(
                        MaturityRespondent.round_id, func.count(MaturityRespondent.team.distinct())
                    )
                    .where(MaturityRespondent.round_id.in_([r.id for r in closed]))
                    .group_by(MaturityRespondent.round_id)
                )
            }
        for round_id, number in closed:
            self.notify_admins(
                f"Maturity round {number} has closed: {answered.get(round_id, 0)} team(s) "
                "answered. `/platform maturity` shows the levels."
            )

    # -- posting ----------------------------------------------------------------------------

    def send_due(self, round_id: int, *, taken_over: bool = False) -> None:
        """Recover rows a dead sender left, then post every due DM of the round.
        `taken_over`: this run resumes a fan-out whose last runner stopped, so every row
        another sender holds is one it left."""
        now = self._clock()
        mine = self._worker if taken_over else None
        with self._sessions.begin() as session:
            stale = recover_stale(session, round_id, now, taken_over_from_others=mine)
            row = session.get(MaturityRound, round_id)
            round_ = None if row is None else RoundRef.of(row)
        if stale:
            logger.warning("maturity round %d: %d DM(s) may not have been posted", round_id, stale)
        if round_ is None:
            return
        ledger = RoundDeliveries(
            sessions=self._sessions,
            round_=round_,
            team_names=self._team_names,
            messages=self._messages,
            clock=self._clock,
            worker=self._worker,
        )
        self._outbox.drain(ledger)

    def schedule_rest(self, round_id: int) -> datetime | None:
        """Queue a fan-out for when the next pending DM is due (someone's working day)."""
        with self._sessions.begin() as session:
            at = session.scalar(
                select(func.min(MaturityDelivery.send_after)).where(
                    MaturityDelivery.round_id == round_id,
                    MaturityDelivery.state == DeliveryState.PENDING,
                )
            )
            if at is not None:
                self._enqueue_send(session, round_id, at, label="due")
        return at

    def _enqueue_send(self, session: Session, round_id: int, at: datetime, *, label: str) -> None:
        self._jobs.enqueue(
            kind=JobKind.FANOUT,
            payload={"round_id": round_id},
            idempotency_key=f"maturity-send:{round_id}:{label}:{at:%Y%m%dT%H%M%S}",
            run_after=at,
            session=session,
        )

    def describe_round(self, round_id: int) -> str:
        """A round as admins know it: "maturity round 3"."""
        with self._sessions() as session:
            found = session.get(MaturityRound, round_id)
        return "a maturity round" if found is None else f"maturity round {found.number}"

    def notify_admins(self, text: str) -> None:
        notice = self._messages.notice(text)
        post_admin_notice(self._messenger, self._admin_channel, notice, survey="maturity")


def _pending(
    round_id: int, team: str, user_id: str, kind: str, tz: str | None, send_after: datetime
) -> dict[str, Any]:
    return {
        "round_id": round_id,
        "team": team,
        "user_id": user_id,
        "kind": kind,
        "state": DeliveryState.PENDING,
        "tz": tz,
        "send_after": send_after,
    }
