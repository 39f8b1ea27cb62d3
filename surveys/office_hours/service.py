"""Office hours: sessions from a schedule, channel reminders, a question queue, follow-ups.

Each occurrence of a schedule becomes an `office_hours_session` row (unique per schedule and
start) with its hosts chosen by rotation. The leader's tick posts each due reminder once (a
reminder row is inserted before posting, so two ticks cannot both post it); when it was down
past one reminder time, only the latest due reminder is posted. After a session ends, a
durable job asks each attendee one question.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import SessionFactory, rowcount
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.jobs import JobContext, JobQueue
from bot.mrkdwn import escape_truncated
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from surveys.config import OfficeHours, SurveysSection
from surveys.office_hours.models import (
    OfficeHoursAttendee,
    OfficeHoursQuestion,
    OfficeHoursReminder,
    OfficeHoursSession,
)
from surveys.schedule import Cron

logger = logging.getLogger(__name__)

FOLLOW_UP_JOB = "office_hours.follow_up"
QUESTION_LIMIT = 2000
# `sending` too: the DM is out before its state is written, so a quick click may come first.
FOLLOW_UP_POSTED = ("sending", "sent")


@dataclass(frozen=True)
class SessionInfo:
    id: int
    schedule: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    timezone: str
    channel: str
    hosts: list[str]
    follow_up: str


@dataclass(frozen=True)
class QuestionInfo:
    user_id: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Overview:
    session: SessionInfo
    questions: list[QuestionInfo]
    attendees: int


class OfficeHoursMessages(Protocol):
    def reminder(
        self, session: SessionInfo, *, minutes_before: int, questions: int
    ) -> tuple[str, list[dict[str, Any]]]: ...

    def host_brief(
        self, session: SessionInfo, questions: list[QuestionInfo]
    ) -> tuple[str, list[dict[str, Any]]]: ...

    def follow_up(self, session: SessionInfo) -> tuple[str, list[dict[str, Any]]]: ...


class OfficeHoursService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        config: SurveysSection,
        messenger: Messenger,
        jobs: JobQueue,
        messages: OfficeHoursMessages,
        clock: Callable[[], datetime],
        postgres: bool,
        resolve_user: Callable[[str], str | None],
    ) -> None:
        self._sessions = sessions
        self._schedules = {o.name: o for o in config.office_hours}
        self._grace = timedelta(minutes=config.missed_run_grace_minutes)
        self._messenger = messenger
        self._jobs = jobs
        self._messages = messages
        self._clock = clock
        self._postgres = postgres
        self._resolve_user = resolve_user

    # -- the leader's tick ------------------------------------------------------------------

    def tick(self) -> None:
        now = self._clock()
        for schedule in self._schedules.values():
            try:
                self._ensure_next_session(schedule, now)
                self._post_due_reminders(schedule, now)
                self._start_follow_ups(schedule, now)
            except Exception:
                logger.exception("office hours %s: tick failed", schedule.name)

    def _ensure_next_session(self, schedule: OfficeHours, now: datetime) -> None:
        starts_at = Cron(schedule.schedule, schedule.timezone).next_after(now)
        if starts_at is None:
            return
        with self._sessions.begin() as session:
            exists = session.scalar(
                select(OfficeHoursSession.id).where(
                    OfficeHoursSession.schedule == schedule.name,
                    OfficeHoursSession.starts_at == starts_at,
                )
            )
            if exists is not None:
                return
            sequence = session.scalar(
                select(func.count())
                .select_from(OfficeHoursSession)
                .where(OfficeHoursSession.schedule == schedule.name)
            )
            dialect = postgresql if self._postgres else sqlite
            session.execute(
                dialect.insert(OfficeHoursSession)
                .values(
                    schedule=schedule.name,
                    sequence=int(sequence or 0),
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=schedule.duration_minutes),
                    channel=schedule.channel,
                    hosts=self._hosts(schedule, int(sequence or 0)),
                    follow_up_at=None,
                )
                .on_conflict_do_nothing(index_elements=["schedule", "starts_at"])
            )

    def _hosts(self, schedule: OfficeHours, sequence: int) -> list[str]:
        ids = [self._resolve_user(h) or h for h in schedule.hosts]
        count = min(schedule.hosts_per_session, len(ids))
        start = sequence * count
        return [ids[(start + i) % len(ids)] for i in range(count)]

    def _post_due_reminders(self, schedule: OfficeHours, now: datetime) -> None:
        horizon = now + timedelta(minutes=max(schedule.reminders_minutes_before, default=0))
        with self._sessions() as session:
            upcoming = session.scalars(
                select(OfficeHoursSession).where(
                    OfficeHoursSession.schedule == schedule.name,
                    OfficeHoursSession.starts_at > now,
                    OfficeHoursSession.starts_at <= horizon,
                )
            ).all()
        for row in upcoming:
            due = [
                minutes
                for minutes in schedule.reminders_minutes_before
                if row.starts_at - timedelta(minutes=minutes) <= now
            ]
            if not due:
                continue
            latest = min(due)
            with self._sessions.begin() as session:
                done = set(
                    session.scalars(
                        select(OfficeHoursReminder.minutes_before).where(
                            OfficeHoursReminder.session_id == row.id
                        )
                    )
                )
                pending = [m for m in due if m not in done]
                if latest not in pending:
                    continue
                for minutes in pending:
                    # Earlier reminders that were missed are recorded as handled, not posted.
                    session.add(
                        OfficeHoursReminder(
                            session_id=row.id, minutes_before=minutes, posted_at=now
                        )
                    )
                if len(pending) > 1:
                    logger.warning(
                        "office hours %s: %d reminder(s) were missed; posting only the latest",
                        schedule.name,
                        len(pending) - 1,
                    )
            self._post_reminder(self._info(row, schedule), latest)

    def _post_reminder(self, info: SessionInfo, minutes_before: int) -> None:
        questions = self._questions(info.id)
        text, blocks = self._messages.reminder(
            info, minutes_before=minutes_before, questions=len(questions)
        )
        try:
            posted = self._messenger.post(info.channel, text=text, blocks=blocks)
        except IntegrationError as exc:
            logger.warning("office hours %s: reminder not posted: %s", info.schedule, exc)
            return
        with self._sessions.begin() as session:
            session.execute(
                update(OfficeHoursReminder)
                .where(
                    OfficeHoursReminder.session_id == info.id,
                    OfficeHoursReminder.minutes_before == minutes_before,
                )
                .values(channel=posted.channel, ts=posted.ts)
            )
        schedule = self._schedules[info.schedule]
        if minutes_before == min(schedule.reminders_minutes_before):
            # The last reminder before the session: brief the hosts with the queue.
            text, blocks = self._messages.host_brief(info, questions)
            for host in info.hosts:
                try:
                    self._messenger.post(host, text=text, blocks=blocks)
                except IntegrationError as exc:
                    logger.warning("office hours %s: host brief not sent: %s", info.schedule, exc)

    def _start_follow_ups(self, schedule: OfficeHours, now: datetime) -> None:
        with self._sessions.begin() as session:
            ended = session.scalars(
                select(OfficeHoursSession).where(
                    OfficeHoursSession.schedule == schedule.name,
                    OfficeHoursSession.ends_at <= now,
                    OfficeHoursSession.follow_up_at.is_(None),
                )
            ).all()
            for row in ended:
                row.follow_up_at = now
                if now - row.ends_at > self._grace:
                    logger.warning(
                        "office hours %s: follow-up of the session at %s skipped (too late)",
                        schedule.name,
                        row.starts_at.isoformat(),
                    )
                    continue
                self._jobs.enqueue(
                    kind=FOLLOW_UP_JOB,
                    payload={"session_id": row.id},
                    idempotency_key=f"office-hours-follow-up:{row.id}",
                    session=session,
                )

    def send_follow_ups(self, session_id: int) -> int:
        """DM each attendee the follow-up question once; returns how many were sent."""
        info = self.session_info(session_id)
        text, blocks = self._messages.follow_up(info)
        sent = 0
        with self._sessions() as session:
            attendees = list(
                session.scalars(
                    select(OfficeHoursAttendee.user_id).where(
                        OfficeHoursAttendee.session_id == session_id,
                        OfficeHoursAttendee.follow_up_state.is_(None),
                    )
                )
            )
        for user_id in attendees:
            with self._sessions.begin() as session:
                claimed = session.execute(
                    update(OfficeHoursAttendee)
                    .where(
                        OfficeHoursAttendee.session_id == session_id,
                        OfficeHoursAttendee.user_id == user_id,
                        OfficeHoursAttendee.follow_up_state.is_(None),
                    )
                    .values(follow_up_state="sending")
                )
                if rowcount(claimed) != 1:
                    continue
            try:
                self._messenger.post(user_id, text=text, blocks=blocks)
                state = "sent"
                sent += 1
            except IntegrationError as exc:
                logger.warning("office hours follow-up to a person failed: %s", exc)
                state = "failed"
            with self._sessions.begin() as session:
                session.execute(
                    update(OfficeHoursAttendee)
                    .where(
                        OfficeHoursAttendee.session_id == session_id,
                        OfficeHoursAttendee.user_id == user_id,
                    )
                    .values(follow_up_state=state)
                )
        return sent

    # -- people -----------------------------------------------------------------------------

    def add_question(self, *, session_id: int, user_id: str, text: str) -> int:
        text = text.strip()
        if not text:
            raise InvalidInput("Write your question.", field="question")
        if len(text) > QUESTION_LIMIT:
            raise InvalidInput(f"Keep it under {QUESTION_LIMIT} characters.", field="question")
        now = self._clock()
        with self._sessions.begin() as session:
            row = self._live_session(session, session_id, now)
            session.add(
                OfficeHoursQuestion(session_id=row.id, user_id=user_id, text=text, created_at=now)
            )
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(OfficeHoursQuestion)
                    .where(OfficeHoursQuestion.session_id == row.id)
                )
                or 0
            )

    def attend(self, *, session_id: int, user_id: str) -> bool:
        """Note that the person will attend; False when they had already said so."""
        now = self._clock()
        with self._sessions.begin() as session:
            self._live_session(session, session_id, now)
            dialect = postgresql if self._postgres else sqlite
            result = session.execute(
                dialect.insert(OfficeHoursAttendee)
                .values(session_id=session_id, user_id=user_id, created_at=now)
                .on_conflict_do_nothing(index_elements=["session_id", "user_id"])
                # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT.
                .returning(OfficeHoursAttendee.user_id)
            )
            return result.first() is not None

    def rate(self, *, session_id: int, user_id: str, rating: int) -> None:
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1..5")
        with self._sessions.begin() as session:
            row = session.get(OfficeHoursAttendee, {"session_id": session_id, "user_id": user_id})
            # The button's value names a session; only the follow-up DM sent to this person
            # for it makes the click theirs to make.
            if row is None or row.follow_up_state not in FOLLOW_UP_POSTED:
                raise NotAllowed("Only people asked for feedback on this session can rate it.")
            row.rating = rating
            row.rated_at = self._clock()

    def overview(self, name: str | None = None) -> Overview:
        if not self._schedules:
            raise NotFound("No office hours are configured (surveys.office_hours).")
        schedule = self._schedule(name)
        now = self._clock()
        self._ensure_next_session(schedule, now)
        with self._sessions() as session:
            row = session.scalars(
                select(OfficeHoursSession)
                .where(
                    OfficeHoursSession.schedule == schedule.name,
                    OfficeHoursSession.ends_at > now,
                )
                .order_by(OfficeHoursSession.starts_at)
                .limit(1)
            ).first()
            if row is None:
                raise NotFound(f"Office hours `{schedule.name}` have no upcoming session.")
            attendees = session.scalar(
                select(func.count())
                .select_from(OfficeHoursAttendee)
                .where(OfficeHoursAttendee.session_id == row.id)
            )
            info = self._info(row, schedule)
        return Overview(info, self._questions(info.id), int(attendees or 0))

    def session_info(self, session_id: int) -> SessionInfo:
        with self._sessions() as session:
            row = session.get(OfficeHoursSession, session_id)
            if row is None:
                raise NotFound("This office-hours session no longer exists.")
            schedule = self._schedules.get(row.schedule)
            if schedule is None:
                raise NotFound("These office hours are no longer configured.")
            return self._info(row, schedule)

    def _schedule(self, name: str | None) -> OfficeHours:
        if name is None:
            return next(iter(self._schedules.values()))
        found = self._schedules.get(name)
        if found is None:
            raise NotFound(
                f"There are no office hours called `{escape_truncated(name, 80)}`.",
                suggestions=sorted(self._schedules),
            )
        return found

    def _live_session(self, session: Session, session_id: int, now: datetime) -> OfficeHoursSession:
        row = session.get(OfficeHoursSession, session_id)
        if row is None:
            raise NotFound("This office-hours session no longer exists.")
        if now >= row.ends_at:
            raise Conflict("This office-hours session is over.")
        return row

    def _questions(self, session_id: int) -> list[QuestionInfo]:
        with self._sessions() as session:
            rows = session.execute(
                select(
                    OfficeHoursQuestion.user_id,
                    OfficeHoursQuestion.text,
                    OfficeHoursQuestion.created_at,
                )
                .where(OfficeHoursQuestion.session_id == session_id)
                .order_by(OfficeHoursQuestion.created_at, OfficeHoursQuestion.id)
            ).all()
        return [QuestionInfo(user_id, text, created_at) for user_id, text, created_at in rows]

    @staticmethod
    def _info(row: OfficeHoursSession, schedule: OfficeHours) -> SessionInfo:
        return SessionInfo(
            id=row.id,
            schedule=row.schedule,
            sequence=row.sequence,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            timezone=schedule.timezone,
            channel=row.channel,
            hosts=[str(h) for h in row.hosts],
            follow_up=schedule.follow_up,
        )


class OfficeHoursFollowUp:
    """The `office_hours.follow_up` job: DM the attendees of an ended session."""

    def __init__(self, service: OfficeHoursService) -> None:
        self._service = service

    def run(self, ctx: JobContext) -> None:
        self._service.send_follow_ups(int(ctx.payload["session_id"]))

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        logger.warning(
            "office hours follow-up for session %s failed: %s",
            ctx.payload.get("session_id"),
            error_message,
        )
