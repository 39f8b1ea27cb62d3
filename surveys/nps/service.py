"""NPS campaigns: rounds on a schedule, a paced and exactly-once DM fan-out, answers, results.

Delivery guarantee (per round, person and message kind):
- A `nps_delivery` row is created once (unique key) and claimed by one sender: the claim is a
  conditional update (PostgreSQL: the candidate row is locked `FOR UPDATE SKIP LOCKED`), so
  replicas and a job resumed after a crash never send the same row twice.
- The claim records the intent (`sending`) and commits *before* chat.postMessage; the answer
  is recorded as `sent` with the DM's channel and ts.
- Slack has no idempotency key for chat.postMessage, so a crash or a timeout between the
  post and the record leaves it unknown whether the DM arrived. Such rows become
  `unconfirmed` and are never posted again: at most one invitation. They stay eligible for
  reminders, so a person whose invitation was lost still hears about the survey.
- A 429 means the call was not carried out: the row goes back to `pending` and the whole
  fan-out waits for `Retry-After`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.audit import AuditLog, Outcome
from bot.db import SessionFactory, rowcount
from bot.errors import Conflict, NotAllowed, NotFound
from bot.identity import IdentityService
from bot.jobs import JobContext, JobQueue
from bot.mrkdwn import escape_truncated
from integrations.errors import (
    IntegrationError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from integrations.protocols import ChartRenderer, DirectoryUser, Messenger, WorkspaceRoster
from surveys.config import Campaign, SurveysSection
from surveys.delivery import Pacer, run_paced
from surveys.nps.export import export_answers
from surveys.nps.models import (
    REACHED,
    DeliveryState,
    NpsAnswer,
    NpsCampaignState,
    NpsDelivery,
    NpsRespondent,
    NpsRound,
)
from surveys.nps.progress import DeliveryProgress, delivery_progress
from surveys.nps.recipients import NOT_SENT, latest_dm, was_invited
from surveys.nps.rounds import check_can_run, describe_round, next_number
from surveys.schedule import Cron, next_working_moment, zone

logger = logging.getLogger(__name__)

FANOUT_JOB = "nps.fanout"
SNOOZE = timedelta(hours=4)
STALE_SEND = timedelta(seconds=60)  # longer than one chat.postMessage can take
LATEST_COMMENTS = 5


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"
    ALREADY_ANSWERED = "already_answered"
    CLOSED = "closed"
    NOT_INVITED = "not_invited"


@dataclass(frozen=True)
class RoundRef:
    id: int
    number: int
    campaign: str
    question: str
    follow_up: str
    anonymity: str
    min_group_size: int
    opened_at: datetime
    closes_at: datetime

    @classmethod
    def of(cls, row: NpsRound) -> RoundRef:
        return cls(
            id=row.id,
            number=row.number,
            campaign=row.campaign,
            question=row.question,
            follow_up=row.follow_up,
            anonymity=row.anonymity,
            min_group_size=row.min_group_size,
            opened_at=row.opened_at,
            closes_at=row.closes_at,
        )


@dataclass(frozen=True)
class Content:
    text: str
    blocks: list[dict[str, Any]]


class NpsMessages(Protocol):
    """The Block Kit the service posts; implemented in views.py."""

    def invitation(self, round_: RoundRef, *, kind: str) -> Content: ...

    def thank_you(self, round_: RoundRef, *, score: int) -> Content: ...

    def notice(self, text: str) -> Content: ...


@dataclass(frozen=True)
class CampaignStatus:
    name: str
    schedule: str
    timezone: str
    audience: str
    anonymity: str
    paused: bool
    next_run: datetime | None
    last_round: RoundSummary | None


@dataclass(frozen=True)
class RoundSummary:
    id: int
    number: int
    scheduled_for: datetime
    closes_at: datetime
    delivery: DeliveryProgress
    responded: int
    answers: int
    nps: float | None
    distribution: list[int]

    @property
    def invited(self) -> int:
        """People the invitation reached (or may have: it is never posted twice)."""
        return self.delivery.reached

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None


@dataclass(frozen=True)
class TeamResult:
    team: str
    answers: int
    nps: float


@dataclass(frozen=True)
class NpsResults:
    campaign: str
    anonymity: str
    min_group_size: int
    rounds: list[RoundSummary]
    teams: list[TeamResult] = field(default_factory=list)
    hidden_teams: int = 0
    comments: list[str] = field(default_factory=list)

    @property
    def latest(self) -> RoundSummary | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def suppressed(self) -> bool:
        """Too few answers in the latest round to show scores without exposing anyone."""
        latest = self.latest
        return latest is not None and 0 < latest.answers < self.min_group_size


def nps_of(scores: Iterable[int]) -> float | None:
    """% promoters (9-10) minus % detractors (0-6); None without answers."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return 100.0 * (promoters - detractors) / len(values)


@dataclass(frozen=True)
class _Claimed:
    id: int
    user_id: str
    kind: str


class NpsService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        config: SurveysSection,
        roster: WorkspaceRoster,
        messenger: Messenger,
        identity: IdentityService,
        jobs: JobQueue,
        audit: AuditLog,
        messages: NpsMessages,
        charts: ChartRenderer,
        clock: Callable[[], datetime],
        postgres: bool,
        worker_id: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._campaigns = {c.name: c for c in config.campaigns}
        self._roster = roster
        self._messenger = messenger
        self._identity = identity
        self._jobs = jobs
        self._audit = audit
        self._messages = messages
        self._charts = charts
        self._clock = clock
        self._postgres = postgres
        self._worker = worker_id or uuid.uuid4().hex[:12]
        delivery = config.delivery
        self.pacer = Pacer(delivery.messages_per_minute, 60.0, time_scale=delivery.time_scale)

    # -- campaigns --------------------------------------------------------------------------

    def campaign(self, name: str) -> Campaign:
        found = self._campaigns.get(name)
        if found is None:
            raise NotFound(
                f"There is no NPS campaign called `{escape_truncated(name, 80)}`.",
                suggestions=sorted(self._campaigns),
            )
        return found

    def campaigns(self) -> list[CampaignStatus]:
        now = self._clock()
        with self._sessions() as session:
            states = {s.name: s for s in session.scalars(select(NpsCampaignState))}
        statuses = []
        for campaign in self._campaigns.values():
            state = states.get(campaign.name)
            rounds = self._summaries(campaign.name, last_only=True)
            statuses.append(
                CampaignStatus(
                    name=campaign.name,
                    schedule=campaign.schedule,
                    timezone=campaign.timezone,
                    audience=_describe_audience(campaign),
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
            state = self._state(session, name, now)
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
            state = self._state(session, name, now)  # locked: one run at a time
            check_can_run(session, name, paused=state.paused, now=now)
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
        """The leader's periodic task: open due rounds and plan due reminders."""
        now = self._clock()
        for campaign in self._campaigns.values():
            try:
                self._fire_if_due(campaign, now)
            except Exception:
                logger.exception("NPS campaign %s: could not check its schedule", campaign.name)
        self._plan_reminders(now)

    def _state(self, session: Session, name: str, now: datetime) -> NpsCampaignState:
        query = select(NpsCampaignState).where(NpsCampaignState.name == name)
        if self._postgres:
            query = query.with_for_update()
        state = session.scalars(query).one_or_none()
        if state is None:
            # A new campaign starts counting from now: it never fires for times before it
            # was configured.
            state = NpsCampaignState(
                name=name, paused=False, last_scheduled_for=now, updated_at=now
            )
            session.add(state)
            session.flush()
        return state

    def _fire_if_due(self, campaign: Campaign, now: datetime) -> None:
        grace = timedelta(minutes=self._config.missed_run_grace_minutes)
        with self._sessions.begin() as session:
            state = self._state(session, campaign.name, now)
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
            if now - latest > grace:
                logger.warning(
                    "NPS campaign %s: round scheduled for %s missed by %s (grace %s); skipped",
                    campaign.name,
                    latest.isoformat(),
                    now - latest,
                    grace,
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
            number=next_number(session, campaign.name),
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
            kind=FANOUT_JOB,
            payload={"round_id": row.id, "prepare": True},
            idempotency_key=f"nps-fanout:{row.id}",
            session=session,
        )
        logger.info("NPS campaign %s: round %d opened (%s)", campaign.name, row.id, trigger)
        return RoundRef.of(row)

    # -- reminders --------------------------------------------------------------------------

    def _plan_reminders(self, now: datetime) -> None:
        with self._sessions() as session:
            candidates = session.scalars(
                select(NpsRound).where(
                    NpsRound.closes_at > now,
                    NpsRound.reminders_sent < NpsRound.reminders_planned,
                    NpsRound.audience_size.is_not(None),
                )
            ).all()
        for round_ in candidates:
            number = round_.reminders_sent + 1
            due = round_.opened_at + timedelta(hours=round_.reminder_every_hours * number)
            if due > now or due >= round_.closes_at:
                continue
            try:
                self._plan_reminder(round_.id, number, now)
            except Exception:
                logger.exception("NPS round %d: could not plan reminder %d", round_.id, number)

    def _plan_reminder(self, round_id: int, number: int, now: datetime) -> None:
        kind = f"reminder-{number}"
        hours = self._config.delivery.working_hours
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(NpsRound)
                .where(NpsRound.id == round_id, NpsRound.reminders_sent == number - 1)
                .values(reminders_sent=number)
            )
            if rowcount(claimed) != 1:
                return  # another tick planned it
            answered = select(NpsRespondent.user_id).where(NpsRespondent.round_id == round_id)
            invited = session.execute(
                select(NpsDelivery.user_id, NpsDelivery.tz).where(
                    NpsDelivery.round_id == round_id,
                    NpsDelivery.kind == "invite",
                    NpsDelivery.state.in_(list(REACHED)),
                    NpsDelivery.user_id.not_in(answered),
                )
            ).all()
            fallback = self._round_zone(session, round_id)
            rows = [
                {
                    "round_id": round_id,
                    "user_id": user_id,
                    "kind": kind,
                    "state": DeliveryState.PENDING,
                    "tz": tz,
                    "send_after": next_working_moment(now, zone(tz, fallback), hours),
                }
                for user_id, tz in invited
            ]
            self._insert_deliveries(session, rows)
            self._enqueue_send(session, round_id, now, label=kind)
        logger.info("NPS round %d: reminder %d planned for %d people", round_id, number, len(rows))

    def _round_zone(self, session: Session, round_id: int) -> str:
        name = session.scalar(select(NpsRound.campaign).where(NpsRound.id == round_id))
        campaign = self._campaigns.get(name or "")
        return campaign.timezone if campaign else "UTC"

    def snooze(self, round_id: int, user_id: str) -> datetime:
        """ "Remind me later": one more invitation after a few working hours."""
        now = self._clock()
        hours = self._config.delivery.working_hours
        with self._sessions.begin() as session:
            round_ = self._open_round_row(session, round_id, now)
            if not was_invited(session, round_id, user_id):
                raise NotAllowed(NOT_SENT)
            tz = session.scalar(
                select(NpsDelivery.tz).where(
                    NpsDelivery.round_id == round_id, NpsDelivery.user_id == user_id
                )
            )
            fallback = self._round_zone(session, round_id)
            send_after = next_working_moment(now + SNOOZE, zone(tz, fallback), hours)
            if send_after >= round_.closes_at:
                send_after = max(now, round_.closes_at - timedelta(hours=1))
            inserted = self._insert_deliveries(
                session,
                [
                    {
                        "round_id": round_id,
                        "user_id": user_id,
                        "kind": "snooze",
                        "state": DeliveryState.PENDING,
                        "tz": tz,
                        "send_after": send_after,
                    }
                ],
            )
            if not inserted:
                existing = session.scalar(
                    select(NpsDelivery.send_after).where(
                        NpsDelivery.round_id == round_id,
                        NpsDelivery.user_id == user_id,
                        NpsDelivery.kind == "snooze",
                    )
                )
                return existing or send_after
            self._enqueue_send(session, round_id, send_after, label="snooze")
        return send_after

    # -- fan-out ----------------------------------------------------------------------------

    def prepare_round(self, round_id: int) -> int:
        """Resolve the audience and create one pending invitation per person; returns how many."""
        with self._sessions() as session:
            round_ = session.get(NpsRound, round_id)
            if round_ is None:
                raise NotFound(f"NPS round {round_id} does not exist.")
            campaign = self._campaigns.get(round_.campaign)
            opened_at, number = round_.opened_at, round_.number
        if campaign is None:
            logger.warning("NPS round %d: campaign no longer configured; no fan-out", round_id)
            return 0
        people = self._audience(campaign)
        hours = self._config.delivery.working_hours
        rows = [
            {
                "round_id": round_id,
                "user_id": person.id,
                "kind": "invite",
                "state": DeliveryState.PENDING,
                "tz": person.tz,
                "send_after": next_working_moment(
                    opened_at, zone(person.tz, campaign.timezone), hours
                ),
            }
            for person in people
        ]
        with self._sessions.begin() as session:
            self._insert_deliveries(session, rows)
            session.execute(
                update(NpsRound).where(NpsRound.id == round_id).values(audience_size=len(rows))
            )
        if not rows:
            self.notify_admins(
                f"The NPS campaign `{campaign.name}` has an empty audience "
                f"({_describe_audience(campaign)}): round {number} reached nobody. "
                "Check the audience in the platform config."
            )
        logger.info("NPS round %d: %d recipient(s)", round_id, len(rows))
        return len(rows)

    def _audience(self, campaign: Campaign) -> list[DirectoryUser]:
        users = self._roster.all_users()
        by_id = {user.id: user for user in users}
        audience = campaign.audience
        if audience.kind == "everyone":
            ids = [user.id for user in users]
        elif audience.kind == "channel":
            ids = self._roster.channel_members(audience.channel or "")
        elif audience.kind == "usergroup":
            ids = self._roster.usergroup_members(audience.usergroup or "")
        else:
            by_email = {u.email.casefold(): u.id for u in users if u.email}
            ids = [
                by_email.get(entry.casefold(), "") if "@" in entry else entry
                for entry in audience.users
            ]
        chosen = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
        # Surveys are for people: no bots, no deactivated accounts, no guests.
        return [u for u in chosen if not (u.is_bot or u.deleted or u.is_restricted)]

    def _insert_deliveries(self, session: Session, rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        dialect = postgresql if self._postgres else sqlite
        inserted = 0
        for start in range(0, len(rows), 500):
            statement = (
                dialect.insert(NpsDelivery)
                .values(list(rows[start : start + 500]))
                .on_conflict_do_nothing(index_elements=["round_id", "user_id", "kind"])
                # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT.
                .returning(NpsDelivery.id)
            )
            inserted += len(session.execute(statement).all())
        return inserted

    def _enqueue_send(self, session: Session, round_id: int, at: datetime, *, label: str) -> None:
        self._jobs.enqueue(
            kind=FANOUT_JOB,
            payload={"round_id": round_id},
            idempotency_key=f"nps-send:{round_id}:{label}:{at:%Y%m%dT%H%M%S}",
            run_after=at,
            session=session,
        )

    def recover_stale(self, round_id: int) -> int:
        """Rows left `sending` by a sender that died: outcome unknown, never posted again."""
        cutoff = self._clock() - STALE_SEND
        with self._sessions.begin() as session:
            result = session.execute(
                update(NpsDelivery)
                .where(
                    NpsDelivery.round_id == round_id,
                    NpsDelivery.state == DeliveryState.SENDING,
                    NpsDelivery.claimed_at < cutoff,
                )
                .values(state=DeliveryState.UNCONFIRMED, error="sender stopped mid-post")
            )
            count = rowcount(result)
        if count:
            logger.warning(
                "NPS round %d: %d DM(s) may or may not have been posted before a restart; "
                "they are not posted again (reminders still reach them)",
                round_id,
                count,
            )
        return count

    def send_due(self, round_id: int, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Post every due pending DM of the round, paced to the configured rate."""
        with self._sessions() as session:
            row = session.get(NpsRound, round_id)
            if row is None:
                return
            round_ = RoundRef.of(row)
        contents: dict[str, Content] = {}
        sent = _SentLedger(self._sessions)

        def send(item: _Claimed) -> None:
            if item.kind not in contents:
                contents[item.kind] = self._messages.invitation(round_, kind=item.kind)
            self._send(round_, item, contents[item.kind], sent)

        try:
            run_paced(
                lambda: self._claim(round_id),
                send,
                pacer=self.pacer,
                senders=self._config.delivery.senders,
                should_stop=should_stop,
            )
        finally:
            sent.flush()

    def next_pending(self, round_id: int) -> datetime | None:
        with self._sessions() as session:
            return session.scalar(
                select(func.min(NpsDelivery.send_after)).where(
                    NpsDelivery.round_id == round_id,
                    NpsDelivery.state == DeliveryState.PENDING,
                )
            )

    def schedule_rest(self, round_id: int) -> datetime | None:
        """Queue a fan-out for when the next pending DM is due (someone's working day)."""
        at = self.next_pending(round_id)
        if at is not None:
            with self._sessions.begin() as session:
                self._enqueue_send(session, round_id, at, label="due")
        return at

    def _claim(self, round_id: int) -> _Claimed | None:
        """Move the next due pending row to `sending` (the recorded intent) in one statement."""
        now = self._clock()
        candidate = (
            select(NpsDelivery.id)
            .where(
                NpsDelivery.round_id == round_id,
                NpsDelivery.state == DeliveryState.PENDING,
                NpsDelivery.send_after <= now,
            )
            # send_after alone, so the index (round_id, state, send_after) yields rows in order
            # and the database stops at the first free one instead of sorting every row.
            .order_by(NpsDelivery.send_after)
            .limit(1)
        )
        if self._postgres:
            # Concurrent senders (threads, replicas) skip each other's rows instead of queueing.
            candidate = candidate.with_for_update(skip_locked=True)
        claim = (
            update(NpsDelivery)
            .where(
                NpsDelivery.id == candidate.scalar_subquery(),
                NpsDelivery.state == DeliveryState.PENDING,
            )
            .values(state=DeliveryState.SENDING, claimed_by=self._worker, claimed_at=now)
            .returning(NpsDelivery.id, NpsDelivery.user_id, NpsDelivery.kind)
        )
        for _ in range(20):
            with self._sessions.begin() as session:
                found = session.execute(claim).first()
                if found is not None:
                    return _Claimed(found.id, found.user_id, found.kind)
                remaining = session.scalar(candidate.with_only_columns(NpsDelivery.id))
            if remaining is None:
                return None
        return None

    def _send(self, round_: RoundRef, item: _Claimed, content: Content, sent: _SentLedger) -> None:
        if item.kind != "invite" and self._needless(round_, item):
            self._finish(item.id, DeliveryState.SKIPPED, error="answered or closed")
            return
        try:
            posted = self._messenger.post(item.user_id, text=content.text, blocks=content.blocks)
        except ProviderRateLimited as exc:
            self.pacer.rate_limited_for(exc.retry_after)
            self._finish(item.id, DeliveryState.PENDING, error=None, release=True)
            return
        except ProviderRejected as exc:
            self._finish(item.id, DeliveryState.FAILED, error=exc.message[:200])
            return
        except ProviderUnavailable as exc:
            self._finish(item.id, DeliveryState.UNCONFIRMED, error=exc.message[:200])
            return
        sent.add(item.id, posted.channel, posted.ts, self._clock())

    def _needless(self, round_: RoundRef, item: _Claimed) -> bool:
        if self._clock() >= round_.closes_at:
            return True
        with self._sessions() as session:
            return (
                session.get(NpsRespondent, {"round_id": round_.id, "user_id": item.user_id})
                is not None
            )

    def _finish(
        self,
        delivery_id: int,
        state: DeliveryState,
        *,
        error: str | None = None,
        channel: str | None = None,
        ts: str | None = None,
        release: bool = False,
    ) -> None:
        values: dict[str, Any] = {"state": state, "error": error}
        if state == DeliveryState.SENT:
            values.update(channel=channel, ts=ts, sent_at=self._clock())
        if release:
            values.update(claimed_by=None, claimed_at=None)
        with self._sessions.begin() as session:
            session.execute(
                update(NpsDelivery)
                .where(
                    NpsDelivery.id == delivery_id,
                    # A slow post may finish after recovery marked it unconfirmed: the
                    # post's own answer is the better record.
                    NpsDelivery.state.in_([DeliveryState.SENDING, DeliveryState.UNCONFIRMED]),
                )
                .values(**values)
            )

    def describe_round(self, round_id: int) -> str:
        with self._sessions() as session:
            return describe_round(session, round_id)

    def notify_admins(self, text: str) -> None:
        channel = self._config.admin_channel
        if channel is None:
            logger.warning("survey notice for admins (set surveys.admin_channel): %s", text)
            return
        content = self._messages.notice(text)
        try:
            self._messenger.post(channel, text=content.text, blocks=content.blocks)
        except IntegrationError as exc:
            logger.warning("could not post a survey notice to %s: %s", channel, exc)

    # -- answering --------------------------------------------------------------------------

    def round_for_answer(
        self, round_id: int, user_id: str
    ) -> tuple[RoundRef, AnswerOutcome | None]:
        """The round to open the survey for, and why it cannot be answered (None: it can)."""
        now = self._clock()
        with self._sessions() as session:
            row = session.get(NpsRound, round_id)
            if row is None:
                raise NotFound("This survey no longer exists.")
            round_ = RoundRef.of(row)
            if not was_invited(session, round_id, user_id):
                return round_, AnswerOutcome.NOT_INVITED
            if now >= row.closes_at:
                return round_, AnswerOutcome.CLOSED
            answered = session.get(NpsRespondent, {"round_id": round_id, "user_id": user_id})
            return round_, AnswerOutcome.ALREADY_ANSWERED if answered else None

    def answer(
        self, *, round_id: int, user_id: str, score: int, comment: str | None
    ) -> tuple[AnswerOutcome, RoundRef | None]:
        """Record one answer per person and round; the first answer stands."""
        if not 0 <= score <= 10:
            raise ValueError("score must be 0..10")
        teams = self._identity.principal(user_id).teams
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.get(NpsRound, round_id)
            if row is None:
                raise NotFound("This survey no longer exists.")
            round_ = RoundRef.of(row)
            if not was_invited(session, round_id, user_id):
                return AnswerOutcome.NOT_INVITED, round_
            if now >= row.closes_at:
                return AnswerOutcome.CLOSED, round_
            dialect = postgresql if self._postgres else sqlite
            inserted = session.execute(
                dialect.insert(NpsRespondent)
                .values(round_id=round_id, user_id=user_id)
                .on_conflict_do_nothing(index_elements=["round_id", "user_id"])
                .returning(NpsRespondent.user_id)  # psycopg's rowcount is -1 here
            ).first()
            if inserted is None:
                return AnswerOutcome.ALREADY_ANSWERED, round_
            session.add(
                NpsAnswer(
                    id=uuid.uuid4().hex,
                    round_id=round_id,
                    score=score,
                    comment=(comment or "").strip() or None,
                    team=min(teams) if teams else None,
                    user_id=user_id if row.anonymity == "attributed" else None,
                    answered_on=now.date(),
                )
            )
        return AnswerOutcome.RECORDED, round_

    def thank(self, round_: RoundRef, *, user_id: str, score: int) -> None:
        """Turn the person's latest survey DM of the round into a thank-you."""
        with self._sessions() as session:
            message = latest_dm(session, round_.id, user_id)
        if message is None:
            return  # the post's ts was never recorded (see _SentLedger): nothing to edit
        content = self._messages.thank_you(round_, score=score)
        try:
            self._messenger.update(message[0], message[1], text=content.text, blocks=content.blocks)
        except IntegrationError as exc:
            logger.warning("NPS round %d: could not update a DM to thank-you: %s", round_.id, exc)

    # -- results ----------------------------------------------------------------------------

    def results(self, name: str | None = None) -> NpsResults:
        if name is None:
            if not self._campaigns:
                raise NotFound("No NPS campaigns are configured (surveys.campaigns).")
            name = next(iter(self._campaigns))
        campaign = self.campaign(name)
        rounds = self._summaries(name)
        teams: list[TeamResult] = []
        hidden = 0
        comments: list[str] = []
        if rounds and rounds[-1].answers >= campaign.min_group_size:
            latest_id = rounds[-1].id
            with self._sessions() as session:
                by_team: dict[str, list[int]] = {}
                for team, score in session.execute(
                    select(NpsAnswer.team, NpsAnswer.score).where(
                        NpsAnswer.round_id == latest_id, NpsAnswer.team.is_not(None)
                    )
                ):
                    by_team.setdefault(team or "", []).append(score)
                comments = list(
                    session.scalars(
                        select(NpsAnswer.comment)
                        .where(NpsAnswer.round_id == latest_id, NpsAnswer.comment.is_not(None))
                        .order_by(NpsAnswer.answered_on.desc(), NpsAnswer.id)
                        .limit(LATEST_COMMENTS)
                    )
                )
            for team, scores in sorted(by_team.items()):
                if len(scores) >= campaign.min_group_size:
                    teams.append(TeamResult(team, len(scores), nps_of(scores) or 0.0))
                else:
                    hidden += 1
        return NpsResults(
            campaign=name,
            anonymity=campaign.anonymity,
            min_group_size=campaign.min_group_size,
            rounds=rounds,
            teams=teams,
            hidden_teams=hidden,
            comments=comments,
        )

    def trend_chart(self, results: NpsResults) -> bytes | None:
        """A PNG of NPS per round (rounds with enough answers), or None with fewer than one."""
        points = [
            r for r in results.rounds if r.nps is not None and r.answers >= results.min_group_size
        ]
        if not points:
            return None
        return self._charts.line_chart(
            title=f"NPS: {results.campaign}",
            labels=[f"{r.scheduled_for:%Y-%m-%d}" for r in points],
            values=[round(r.nps or 0.0, 1) for r in points],
            y_label="NPS",
            y_range=(-100, 100),
        )

    def _summaries(self, name: str, *, last_only: bool = False) -> list[RoundSummary]:
        with self._sessions() as session:
            query = select(NpsRound).where(NpsRound.campaign == name)
            query = query.order_by(NpsRound.number.desc() if last_only else NpsRound.number)
            if last_only:
                query = query.limit(1)
            rounds = list(session.scalars(query))
            ids = [r.id for r in rounds]
            delivery = delivery_progress(
                session, rounds, now=self._clock(), fallback_tz=self.campaign(name).timezone
            )
            responded: dict[int, int] = dict(
                session.execute(
                    select(NpsRespondent.round_id, func.count())
                    .where(NpsRespondent.round_id.in_(ids))
                    .group_by(NpsRespondent.round_id)
                ).all()
            )
            scores: dict[int, list[int]] = {}
            for round_id, score in session.execute(
                select(NpsAnswer.round_id, NpsAnswer.score).where(NpsAnswer.round_id.in_(ids))
            ):
                scores.setdefault(round_id, []).append(score)
        summaries = []
        for r in rounds:
            values = scores.get(r.id, [])
            counts = Counter(values)
            summaries.append(
                RoundSummary(
                    id=r.id,
                    number=r.number,
                    scheduled_for=r.scheduled_for,
                    closes_at=r.closes_at,
                    delivery=delivery[r.id],
                    responded=responded.get(r.id, 0),
                    answers=len(values),
                    nps=nps_of(values),
                    distribution=[counts.get(s, 0) for s in range(11)],
                )
            )
        return summaries

    def export_csv(self, name: str | None = None, *, actor: str) -> tuple[str, bytes]:
        """All answers (of one campaign or all) as CSV, as anonymous as each round promised."""
        if name is not None:
            self.campaign(name)
        sizes = {c.name: c.min_group_size for c in self._campaigns.values()}
        with self._sessions() as session:
            content = export_answers(session, name, min_group_sizes=sizes)
        self._audit.record(
            actor=actor, action="nps.export", outcome=Outcome.SUCCEEDED, target=name or "all"
        )
        return f"nps-{name or 'all'}-{self._clock():%Y%m%d}.csv", content

    def _open_round_row(self, session: Session, round_id: int, now: datetime) -> NpsRound:
        row = session.get(NpsRound, round_id)
        if row is None:
            raise NotFound("This survey no longer exists.")
        if now >= row.closes_at:
            raise Conflict(f"This survey closed on {row.closes_at:%Y-%m-%d %H:%M} UTC.")
        return row


class _SentLedger:
    """Records posted DMs as `sent` in batches.

    Safe to delay: until its batch is written a posted row stays `sending`, and if the
    process dies first it becomes `unconfirmed`, which is never posted again either. Only the
    DM's ts (for the thank-you edit) is lost then.
    """

    BATCH = 25
    MAX_DELAY = 0.2

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()
        self._rows: list[dict[str, Any]] = []
        self._since = time.monotonic()

    def add(self, delivery_id: int, channel: str, ts: str, at: datetime) -> None:
        row = {
            "id": delivery_id,
            "state": DeliveryState.SENT,
            "channel": channel,
            "ts": ts,
            "sent_at": at,
            "error": None,
        }
        with self._lock:
            self._rows.append(row)
            due = len(self._rows) >= self.BATCH or time.monotonic() - self._since > self.MAX_DELAY
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
            self._since = time.monotonic()
        if rows:
            with self._sessions.begin() as session:
                session.execute(update(NpsDelivery), rows)


class NpsFanOut:
    """The `nps.fanout` job: prepare the round once, then post what is due, then re-queue."""

    def __init__(self, service: NpsService) -> None:
        self._service = service

    def run(self, ctx: JobContext) -> None:
        round_id = int(ctx.payload["round_id"])
        if ctx.payload.get("prepare") and not ctx.state.get("prepared"):
            count = self._service.prepare_round(round_id)
            ctx.checkpoint(prepared=True, recipients=count)
        self._service.recover_stale(round_id)
        self._service.send_due(round_id)
        self._service.schedule_rest(round_id)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        which = self._service.describe_round(int(ctx.payload["round_id"]))
        self._service.notify_admins(f"Delivering {which} failed: {error_message}")


def _describe_audience(campaign: Campaign) -> str:
    audience = campaign.audience
    if audience.kind == "everyone":
        return "all active people"
    if audience.kind == "channel":
        return f"members of <#{audience.channel}>"
    if audience.kind == "usergroup":
        return f"usergroup @{audience.usergroup}"
    return f"{len(audience.users)} listed people"
