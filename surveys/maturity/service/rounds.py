"""Maturity rounds: opened on the schedule or by an admin, at most one open at a time.

Callers hold the schedule row (locked on PostgreSQL) while they check and insert, so two
starts at once cannot both pass; the unique round number backs that up. A round copies the
questionnaire and the teams it asks, so later config changes do not alter it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory
from bot.core.errors import Conflict
from bot.core.jobs import JobQueue
from surveys.maturity.config import Dimension, MaturitySection
from surveys.maturity.ids import JobKind
from surveys.maturity.models import MaturityRound, MaturitySchedule
from surveys.maturity.service.types import RoundRef
from surveys.schedule import Cron

logger = logging.getLogger(__name__)

NOT_CONFIGURED = (
    "No maturity questionnaire is configured: add `maturity.dimensions` to the platform config."
)
_SCHEDULE_ROW = "maturity"


class RoundService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        config: MaturitySection,
        teams: Mapping[str, str],
        missed_run_grace: timedelta,
        jobs: JobQueue,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        """`teams`: the teams a round asks, key → display name."""
        self._sessions = sessions
        self._config = config
        self._teams = dict(teams)
        self._grace = missed_run_grace
        self._jobs = jobs
        self._audit = audit
        self._clock = clock

    @property
    def team_names(self) -> dict[str, str]:
        return dict(self._teams)

    def start_now(self, *, actor: str) -> RoundRef:
        """Open a round at once; `Conflict` when none can be (not set up, no teams, one open)."""
        dimensions = self._dimensions()
        now = self._clock().replace(microsecond=0)
        with self._sessions.begin() as session:
            _schedule_row(session, now)  # locked: one start at a time
            _check_none_open(session, now)
            round_ = self._open(session, dimensions, now, now, trigger="manual")
            self._audit.record(
                actor=actor,
                action="maturity.start",
                outcome=Outcome.SUCCEEDED,
                target=f"round {round_.number}",
                inputs={"teams": len(round_.teams)},
                session=session,
            )
        return round_

    def tick(self) -> None:
        """Open the round that is due, if any (the leader's periodic task)."""
        if self._config.schedule is None or self._config.dimensions is None:
            return
        try:
            self._fire_if_due(self._config.schedule, self._config.dimensions)
        except Exception:
            logger.exception("maturity: could not check the schedule")

    def _dimensions(self) -> list[Dimension]:
        if self._config.dimensions is None:
            raise Conflict(NOT_CONFIGURED)
        if not self._teams:
            raise Conflict(
                "No team has leads to ask: add `leads` to the teams in the platform config "
                "(or list teams with leads under `maturity.teams`)."
            )
        return self._config.dimensions

    def _fire_if_due(self, schedule: str, dimensions: list[Dimension]) -> None:
        now = self._clock()
        with self._sessions.begin() as session:
            state = _schedule_row(session, now)
            cron = Cron(schedule, self._config.timezone)
            latest, _superseded = cron.latest_at_or_before(state.last_scheduled_for, now)
            if latest is None:
                return
            state.last_scheduled_for = latest
            state.updated_at = now
            if now - latest > self._grace:
                logger.warning("maturity round of %s missed by %s; skipped", latest, now - latest)
                return
            if _open_round(session, now) is not None:
                logger.warning("maturity round of %s skipped: the previous one is open", latest)
                return
            if not self._teams:
                logger.warning("maturity round of %s skipped: no team has leads", latest)
                return
            self._open(session, dimensions, latest, now, trigger="schedule")

    def _open(
        self,
        session: Session,
        dimensions: list[Dimension],
        scheduled_for: datetime,
        now: datetime,
        *,
        trigger: str,
    ) -> RoundRef:
        config = self._config
        number = int(session.scalar(select(func.max(MaturityRound.number))) or 0) + 1
        row = MaturityRound(
            number=number,
            scheduled_for=scheduled_for,
            opened_at=now,
            closes_at=now + timedelta(days=config.open_days),
            trigger=trigger,
            attribute_to=config.attribute_to,
            min_group_size=config.min_group_size,
            teams=list(self._teams),
            questionnaire=[d.model_dump(mode="json") for d in dimensions],
            reminders_planned=config.reminders.count,
            reminder_every_hours=config.reminders.every_hours,
            reminders_sent=0,
            audience_size=None,
            close_noticed=False,
        )
        session.add(row)
        session.flush()
        self._jobs.enqueue(
            kind=JobKind.FANOUT,
            payload={"round_id": row.id, "prepare": True},
            idempotency_key=f"maturity-fanout:{row.id}",
            session=session,
        )
        logger.info("maturity round %d opened (%s)", number, trigger)
        return RoundRef.of(row)


def _schedule_row(session: Session, now: datetime) -> MaturitySchedule:
    # FOR UPDATE is rendered on PostgreSQL only; SQLite serialises writers anyway.
    query = select(MaturitySchedule).where(MaturitySchedule.name == _SCHEDULE_ROW)
    state = session.scalars(query.with_for_update()).one_or_none()
    if state is None:
        # Counting starts now: a new schedule never fires for times before it was configured.
        state = MaturitySchedule(name=_SCHEDULE_ROW, last_scheduled_for=now, updated_at=now)
        session.add(state)
        session.flush()
    return state


def _open_round(session: Session, now: datetime) -> MaturityRound | None:
    return session.scalars(
        select(MaturityRound)
        .where(MaturityRound.closes_at > now)
        .order_by(MaturityRound.number.desc())
        .limit(1)
    ).first()


def _check_none_open(session: Session, now: datetime) -> None:
    still_open = _open_round(session, now)
    if still_open is not None:
        raise Conflict(
            f"Maturity round {still_open.number} is still open: it takes answers until "
            f"{still_open.closes_at:%Y-%m-%d %H:%M} UTC. Start a new round after it closes."
        )
