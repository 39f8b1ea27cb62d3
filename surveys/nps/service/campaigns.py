"""NPS campaigns: listing, pausing, running by hand, and opening rounds on their schedule.

At most one round of a campaign is open at a time, numbered 1, 2, … per campaign. A round run
by hand while another is open would invite everyone a second time, and a paused campaign is
paused for its admins' own reasons; both are refused with what to do instead. Callers hold
the campaign's state row (locked on PostgreSQL) while they check and insert, so two runs at
once cannot both pass; the unique (campaign, number) index backs that up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory
from bot.core.errors import Conflict
from bot.core.jobs import JobQueue
from surveys.config import Campaign
from surveys.nps.ids import JobKind
from surveys.nps.models import NpsCampaignState, NpsRound
from surveys.nps.service.results import round_summaries
from surveys.nps.service.types import CampaignCatalog, CampaignStatus, RoundRef, describe_audience
from surveys.schedule import Cron

logger = logging.getLogger(__name__)


class CampaignService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        catalog: CampaignCatalog,
        missed_run_grace: timedelta,
        jobs: JobQueue,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._grace = missed_run_grace
        self._jobs = jobs
        self._audit = audit
        self._clock = clock

    def campaign(self, name: str) -> Campaign:
        """The configured campaign; `NotFound` (with the names there are) otherwise."""
        return self._catalog.get(name)

    def campaigns(self) -> list[CampaignStatus]:
        now = self._clock()
        with self._sessions() as session:
            states = {s.name: s for s in session.scalars(select(NpsCampaignState))}
        statuses = []
        for campaign in self._catalog:
            state = states.get(campaign.name)
            with self._sessions() as session:
                rounds = round_summaries(session, campaign, now=now, last_only=True)
            statuses.append(
                CampaignStatus(
                    name=campaign.name,
                    schedule=campaign.schedule,
                    timezone=str(campaign.timezone),
                    audience=describe_audience(campaign),
                    anonymity=campaign.anonymity,
                    paused=bool(state and state.paused),
                    next_run=Cron(campaign.schedule, campaign.timezone).next_after(now),
                    last_round=rounds[-1] if rounds else None,
                )
            )
        return statuses

    def set_paused(self, name: str, *, paused: bool, actor: str) -> bool:
        """Pause or resume; False when it already was."""
        self.campaign(name)
        now = self._clock()
        with self._sessions.begin() as session:
            state = _state(session, name, now)
            changed = state.paused != paused
            state.paused = paused
            state.updated_at = now
            self._audit.record(
                actor=actor,
                action="nps.pause" if paused else "nps.resume",
                outcome=Outcome.SUCCEEDED,
                target=name,
                session=session,
            )
        return changed

    def run_now(self, name: str, *, actor: str) -> RoundRef:
        """Open a round of `name` at once and start its fan-out; `Conflict` when the campaign
        is paused or a round of it is still open."""
        campaign = self.campaign(name)
        now = self._clock().replace(microsecond=0)
        with self._sessions.begin() as session:
            state = _state(session, name, now)  # locked: one run at a time
            _check_can_run(session, name, paused=state.paused, now=now)
            round_ = self._open_round(session, campaign, now, now, trigger="manual")
            self._audit.record(
                actor=actor,
                action="nps.run",
                outcome=Outcome.SUCCEEDED,
                target=name,
                inputs={"round": round_.number},
                session=session,
            )
        return round_

    def tick(self) -> None:
        """Open the rounds that are due (the leader's periodic task)."""
        now = self._clock()
        for campaign in self._catalog:
            try:
                self._fire_if_due(campaign, now)
            except Exception:
                logger.exception("NPS campaign %s: could not check its schedule", campaign.name)

    def _fire_if_due(self, campaign: Campaign, now: datetime) -> None:
        with self._sessions.begin() as session:
            state = _state(session, campaign.name, now)
            cron = Cron(campaign.schedule, campaign.timezone)
            latest, superseded = cron.latest_at_or_before(state.last_scheduled_for, now)
            if latest is None:
                return
            state.last_scheduled_for = latest
            state.updated_at = now
            if superseded:
                logger.warning(
                    "NPS campaign %s: %d earlier scheduled round(s) were missed; only the "
                    "latest is considered",
                    campaign.name,
                    superseded,
                )
            if state.paused:
                logger.info("NPS campaign %s is paused: round of %s skipped", campaign.name, latest)
                return
            if now - latest > self._grace:
                logger.warning(
                    "NPS campaign %s: round scheduled for %s missed by %s (grace %s); skipped",
                    campaign.name,
                    latest.isoformat(),
                    now - latest,
                    self._grace,
                )
                return
            self._open_round(session, campaign, latest, now, trigger="schedule")

    def _open_round(
        self,
        session: Session,
        campaign: Campaign,
        scheduled_for: datetime,
        now: datetime,
        *,
        trigger: str,
    ) -> RoundRef:
        row = NpsRound(
            campaign=campaign.name,
            number=_next_number(session, campaign.name),
            scheduled_for=scheduled_for,
            opened_at=now,
            closes_at=now + timedelta(days=campaign.open_days),
            trigger=trigger,
            anonymity=campaign.anonymity,
            question=campaign.question,
            follow_up=campaign.follow_up,
            min_group_size=campaign.min_group_size,
            reminders_planned=campaign.reminders.count,
            reminder_every_hours=campaign.reminders.every_hours,
            reminders_sent=0,
            audience_size=None,
        )
        session.add(row)
        session.flush()
        self._jobs.enqueue(
            kind=JobKind.FANOUT,
            payload={"round_id": row.id, "prepare": True},
            idempotency_key=f"nps-fanout:{row.id}",
            session=session,
        )
        logger.info("NPS campaign %s: round %d opened (%s)", campaign.name, row.id, trigger)
        return RoundRef.of(row)


def _state(session: Session, name: str, now: datetime) -> NpsCampaignState:
    # FOR UPDATE is rendered on PostgreSQL only; SQLite serialises writers anyway.
    query = select(NpsCampaignState).where(NpsCampaignState.name == name).with_for_update()
    state = session.scalars(query).one_or_none()
    if state is None:
        # A new campaign starts counting from now: it never fires for times before it was
        # configured.
        state = NpsCampaignState(name=name, paused=False, last_scheduled_for=now, updated_at=now)
        session.add(state)
        session.flush()
    return state


def _check_can_run(session: Session, campaign: str, *, paused: bool, now: datetime) -> None:
    """Raise `Conflict` when a round of `campaign` may not be opened by hand now."""
    if paused:
        raise Conflict(
            f"Campaign `{campaign}` is paused, so it cannot be run. "
            f"Resume it first with `/platform nps resume {campaign}`."
        )
    still_open = session.scalars(
        select(NpsRound)
        .where(NpsRound.campaign == campaign, NpsRound.closes_at > now)
        .order_by(NpsRound.closes_at.desc())
        .limit(1)
    ).first()
    if still_open is not None:
        raise Conflict(
            f"Round {still_open.number} of `{campaign}` is still open: it takes answers until "
            f"{still_open.closes_at:%Y-%m-%d %H:%M} UTC. Run a new round after it closes."
        )


def _next_number(session: Session, campaign: str) -> int:
    latest = session.scalar(select(func.max(NpsRound.number)).where(NpsRound.campaign == campaign))
    return int(latest or 0) + 1
