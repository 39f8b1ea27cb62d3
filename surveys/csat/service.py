"""Action CSAT: a 1-5 rating asked in the result thread of a platform action.

Other features call `CsatService.request(...)` through `bot.feedback.ActionFeedback` when an
action completes (for example a database becomes ready). A person is asked at most once per
`surveys.csat.period_days`, whatever the action, so a busy user is not nagged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update

from bot.db import SessionFactory
from bot.errors import NotAllowed, NotFound
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from surveys.config import Csat
from surveys.csat.models import CsatRequest

logger = logging.getLogger(__name__)


class CsatMessages(Protocol):
    def rating_request(
        self, request_id: int, *, question: str, action: str
    ) -> tuple[str, list[dict[str, Any]]]: ...

    def rated(self, *, score: int) -> tuple[str, list[dict[str, Any]]]: ...


@dataclass(frozen=True)
class CsatSummary:
    action: str
    ratings: int
    asked: int
    average: float


class CsatService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        config: Csat,
        messenger: Messenger,
        messages: CsatMessages,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._messenger = messenger
        self._messages = messages
        self._clock = clock

    def request(
        self, *, user_id: str, action: str, channel: str, thread_ts: str | None = None
    ) -> bool:
        """Ask `user_id` to rate `action` in the thread; False when not asked (too soon, off).

        Never raises for Slack trouble: feedback must not fail the action it follows.
        """
        if not self._config.enabled:
            return False
        now = self._clock()
        since = now - timedelta(days=self._config.period_days)
        with self._sessions.begin() as session:
            recent = session.scalar(
                select(func.count())
                .select_from(CsatRequest)
                .where(CsatRequest.user_id == user_id, CsatRequest.requested_at > since)
            )
            if recent:
                return False
            row = CsatRequest(
                user_id=user_id,
                action=action[:100],
                channel=channel,
                thread_ts=thread_ts,
                requested_at=now,
            )
            session.add(row)
            session.flush()
            request_id = row.id
        text, blocks = self._messages.rating_request(
            request_id, question=self._config.question, action=action
        )
        try:
            posted = self._messenger.post(channel, text=text, blocks=blocks, thread_ts=thread_ts)
        except IntegrationError as exc:
            logger.warning("CSAT request for %s could not be posted: %s", action, exc)
            return False
        with self._sessions.begin() as session:
            session.execute(
                update(CsatRequest)
                .where(CsatRequest.id == request_id)
                .values(message_ts=posted.ts, channel=posted.channel)
            )
        return True

    def rate(self, *, request_id: int, user_id: str, score: int) -> tuple[str, str | None]:
        """Record the rating (the last click counts); returns (channel, message ts) to update."""
        if not 1 <= score <= 5:
            raise ValueError("score must be 1..5")
        with self._sessions.begin() as session:
            row = session.get(CsatRequest, request_id)
            if row is None:
                raise NotFound("This rating request no longer exists.")
            if row.user_id != user_id:
                raise NotAllowed(f"Only <@{row.user_id}> was asked to rate this.")
            row.score = score
            row.rated_at = self._clock()
            return row.channel, row.message_ts

    def rated_message(self, score: int) -> tuple[str, list[dict[str, Any]]]:
        return self._messages.rated(score=score)

    def summary(self, *, days: int = 90) -> list[CsatSummary]:
        since = self._clock() - timedelta(days=days)
        with self._sessions() as session:
            rows = session.execute(
                select(
                    CsatRequest.action,
                    func.count(CsatRequest.score),
                    func.count(),
                    func.avg(CsatRequest.score),
                )
                .where(CsatRequest.requested_at > since)
                .group_by(CsatRequest.action)
                .order_by(CsatRequest.action)
            ).all()
        return [
            CsatSummary(action, int(ratings), int(asked), float(average or 0.0))
            for action, ratings, asked, average in rows
        ]
