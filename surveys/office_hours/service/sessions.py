"""Office-hours sessions: created from the schedule, reminded in the channel, questions queued.

Each occurrence of a schedule becomes an `office_hours_session` row (unique per schedule and
start) with its hosts chosen by rotation. The leader's tick posts each due reminder once (a
reminder row is inserted before posting, so two ticks cannot both post it); when it was down
past one reminder time, only the latest due reminder is posted. After a session ends, the
tick queues the durable follow-up job (see follow_ups.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory, insert_ignore
from bot.core.errors import Conflict, InvalidInput, NotFound
from bot.core.jobs import JobQueue
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from surveys.config import OfficeHours
from surveys.office_hours.ids import JobKind
from surveys.office_hours.models import (
    OfficeHoursAttendee,
    OfficeHoursQuestion,
    OfficeHoursReminder,
    OfficeHoursSession,
)
from surveys.office_hours.service.types import (
    QUESTION_LIMIT,
    OfficeHoursMessages,
    Overview,
    QuestionInfo,
    Schedules,
    SessionInfo,
)
from surveys.schedule import Cron

logger = logging.getLogger(__name__)


class OfficeHoursService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        schedules: Schedules,
        missed_run_grace: timedelta,
        messenger: Messenger,
        jobs: JobQueue,
        messages: OfficeHoursMessages,
        clock: Callable[[], datetime],
        resolve_user: Callable[[str], str | None],
    ) -> None:
        self._sessions = sessions
        self._schedules = schedules
        self._grace = missed_run_grace
        self._messenger = messenger
        self._jobs = jobs
        self._messages = messages
        self._clock = clock
        self._resolve_user = resolve_user

    # -- the leader's tick ------------------------------------------------------------------

    def tick(self) -> None:
        now = self._clock()
        for schedule in self._schedules:
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
            sequence = int(
                session.scalar(
                    select(func.count())
                    .select_from(OfficeHoursSession)
                    .where(OfficeHoursSession.schedule == schedule.name)
                )
                or 0
            )
            # Another tick may create it first: then its row stands, with the same hosts.
            session.execute(
                insert_ignore(
                    session, OfficeHoursSession, conflict=["schedule", "starts_at"]
                ).values(
                    schedule=schedule.name,
                    sequence=sequence,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=schedule.duration_minutes),
                    channel=schedule.channel,
                    hosts=self._hosts(schedule, sequence),
                    follow_up_at=None,
                )
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
            if due and self._claim_reminders(schedule, row.id, due, now):
                self._post_reminder(SessionInfo.of(row, schedule), min(due), schedule)

    def _claim_reminders(
        self, schedule: OfficeHours, session_id: int, due: list[int], now: datetime
    ) -> bool:
        """Record the due reminders as handled; True when the latest is this tick's to post."""
        with self._sessions.begin() as session:
            done = set(
                session.scalars(
                    select(OfficeHoursReminder.minutes_before).where(
                        OfficeHoursReminder.session_id == session_id
                    )
                )
            )
            pending = [m for m in due if m not in done]
            if min(due) not in pending:
                return False
            for minutes in pending:
                # Earlier reminders that were missed are recorded as handled, not posted.
                session.add(
                    OfficeHoursReminder(
                        session_id=session_id, minutes_before=minutes, posted_at=now
                    )
                )
            if len(pending) > 1:
                logger.warning(
                    "office hours %s: %d reminder(s) were missed; posting only the latest",
                    schedule.name,
                    len(pending) - 1,
                )
        return True

    def _post_reminder(self, info: SessionInfo, minutes_before: int, schedule: OfficeHours) -> None:
        questions = self._questions(info.id)
        content = self._messages.reminder(
            info, minutes_before=minutes_before, questions=len(questions)
        )
        try:
            posted = self._messenger.post(info.channel, text=content.text, blocks=content.blocks)
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
        if minutes_before == min(schedule.reminders_minutes_before):
            # The last reminder before the session: brief the hosts with the queue.
            brief = self._messages.host_brief(info, questions)
            for host in info.hosts:
                try:
                    self._messenger.post(host, text=brief.text, blocks=brief.blocks)
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
                    kind=JobKind.FOLLOW_UP,
                    payload={"session_id": row.id},
                    idempotency_key=f"office-hours-follow-up:{row.id}",
                    session=session,
                )

    # -- people -----------------------------------------------------------------------------

    def add_question(self, *, session_id: int, user_id: str, text: str) -> int:
        text = text.strip()
        if not text:
            raise InvalidInput("Write your question.", field="question")
        if len(text) > QUESTION_LIMIT:
            raise InvalidInput(f"Keep it under {QUESTION_LIMIT} characters.", field="question")
        now = self._clock()
        with self._sessions.begin() as session:
            row = _live_session(session, session_id, now)
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
            _live_session(session, session_id, now)
            first = session.execute(
                insert_ignore(session, OfficeHoursAttendee, conflict=["session_id", "user_id"])
                .values(session_id=session_id, user_id=user_id, created_at=now)
                .returning(OfficeHoursAttendee.user_id)
            ).first()
            return first is not None

    def overview(self, name: str | None = None) -> Overview:
        schedule = self._schedules.get(name)
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
            info = SessionInfo.of(row, schedule)
        return Overview(info, self._questions(info.id), int(attendees or 0))

    def session_info(self, session_id: int) -> SessionInfo:
        with self._sessions() as session:
            row = session.get(OfficeHoursSession, session_id)
            if row is None:
                raise NotFound("This office-hours session no longer exists.")
            return self._schedules.info(row)

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


def _live_session(session: Session, session_id: int, now: datetime) -> OfficeHoursSession:
    row = session.get(OfficeHoursSession, session_id)
    if row is None:
        raise NotFound("This office-hours session no longer exists.")
    if now >= row.ends_at:
        raise Conflict("This office-hours session is over.")
    return row
