"""Action CSAT: a 1-5 rating asked in the result thread of a platform action.

Other features call `CsatService.request(...)` through `bot.core.feedback.ActionFeedback` when an
action completes (for example a database becomes ready). A person is asked at most once per
`surveys.csat.period_days`, whatever the action, so a busy user is not nagged.

The prompt goes through the outbox (`surveys.delivery`) with `csat_request` as the ledger:
creating the row is the claim (committed before the post), the post's channel and ts confirm
it. A prompt that could not be posted is not retried, whatever the reason: feedback must
never hold up or fail the action it follows, and the row still counts as asked, so the
person is not asked again this period.

`CsatDashboard` shows a person the prompts posted to them that they have not rated, while
the period they were asked in lasts (after it they may be asked again, about something
else), with the prompt's own rating buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.core.dashboard import Button, CancelOutcome, DashboardItems, SurveyItem
from bot.core.db import SessionFactory
from bot.core.errors import NotAllowed, NotFound
from bot.core.feedback import RatingSummary
from bot.core.feedback_trends import CsatWeek, week_windows
from integrations.protocols import PostedMessage
from surveys.config import Csat
from surveys.csat.ids import ActionId
from surveys.csat.models import CsatRequest
from surveys.delivery import Content, DmOutbox, Skip, Unsent

if TYPE_CHECKING:  # for annotations only
    from bot.core.identity import Principal

logger = logging.getLogger(__name__)

ACTION_LIMIT = 100  # the column's width
SCORE_LABELS = {1: "1 😞", 2: "2", 3: "3", 4: "4", 5: "5 🤩"}


class CsatMessages(Protocol):
    """What the service posts; `views.CsatMessageBuilder` builds it."""

    def rating_request(self, request_id: int, *, question: str) -> Content: ...


@dataclass(frozen=True)
class Prompt:
    """A claimed `csat_request` row: the prompt goes to the action's thread."""

    id: int
    to: str
    thread_ts: str | None


class PromptLedger:
    """`Ledger` of one rating request for the outbox: claiming it creates the row, when the
    person was not asked within the period."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        messages: CsatMessages,
        question: str,
        user_id: str,
        action: str,
        channel: str,
        thread_ts: str | None,
        now: datetime,
        asked_since: datetime,
    ) -> None:
        self._sessions = sessions
        self._messages = messages
        self._question = question
        self._user_id = user_id
        self._action = action
        self._channel = channel
        self._thread_ts = thread_ts
        self._now = now
        self._since = asked_since

    def claim(self) -> Prompt | None:
        with self._sessions.begin() as session:
            recent = session.scalar(
                select(func.count())
                .select_from(CsatRequest)
                .where(CsatRequest.user_id == self._user_id, CsatRequest.requested_at > self._since)
            )
            if recent:
                return None
            row = CsatRequest(
                user_id=self._user_id,
                action=self._action[:ACTION_LIMIT],
                channel=self._channel,
                thread_ts=self._thread_ts,
                requested_at=self._now,
            )
            session.add(row)
            session.flush()
            return Prompt(row.id, self._channel, self._thread_ts)

    def message(self, item: Prompt) -> Content | Skip:
        return self._messages.rating_request(item.id, question=self._question)

    def confirm(self, sent: Sequence[tuple[Prompt, PostedMessage]]) -> None:
        with self._sessions.begin() as session:
            for item, posted in sent:
                session.execute(
                    update(CsatRequest)
                    .where(CsatRequest.id == item.id)
                    .values(message_ts=posted.ts, channel=posted.channel)
                )

    def settle(self, item: Prompt, outcome: Unsent, error: str) -> None:
        # Nothing to write: a row without a message ts is a prompt that was not (or may not
        # have been) posted, and it is not retried.
        logger.warning("CSAT request for %s could not be posted: %s", self._action, error)


class CsatDashboard:
    def __init__(
        self, *, sessions: SessionFactory, config: Csat, clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock

    def items_for(self, principal: Principal) -> DashboardItems:
        if not self._config.enabled:
            return DashboardItems()
        since = self._clock() - timedelta(days=self._config.period_days)
        # The (user_id, requested_at) index; at most one row per period, so one or two rows.
        query = (
            select(CsatRequest.id, CsatRequest.requested_at)
            .where(
                CsatRequest.user_id == principal.user_id,
                CsatRequest.requested_at > since,
                CsatRequest.score.is_(None),
                CsatRequest.message_ts.is_not(None),
            )
            .order_by(CsatRequest.requested_at.desc())
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
        return DashboardItems(
            surveys=[
                SurveyItem(
                    what=f"{self._config.question} (1 = poor, 5 = great; asked in the thread "
                    f"of what you did on {requested_at:%Y-%m-%d})",
                    buttons=tuple(
                        Button(label, f"{ActionId.RATE_PREFIX}{score}", str(request_id))
                        for score, label in SCORE_LABELS.items()
                    ),
                )
                for request_id, requested_at in rows
            ]
        )

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        return None  # a rating prompt is no request


class CsatService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        config: Csat,
        outbox: DmOutbox,
        messages: CsatMessages,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._outbox = outbox
        self._messages = messages
        self._clock = clock

    def request(
        self, *, user_id: str, action: str, channel: str, thread_ts: str | None = None
    ) -> bool:
        """Ask `user_id` to rate `action` in the thread; False when not asked (too soon, off,
        or the prompt could not be posted).

        Never raises for Slack trouble: feedback must not fail the action it follows.
        """
        if not self._config.enabled:
            return False
        now = self._clock()
        ledger = PromptLedger(
            sessions=self._sessions,
            messages=self._messages,
            question=self._config.question,
            user_id=user_id,
            action=action,
            channel=channel,
            thread_ts=thread_ts,
            now=now,
            asked_since=now - timedelta(days=self._config.period_days),
        )
        return self._outbox.send_one(ledger)

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

    def summary(self, *, days: int = 90) -> list[RatingSummary]:
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
            RatingSummary(action, int(ratings), int(asked), float(average or 0.0))
            for action, ratings, asked, average in rows
        ]

    def csat_weeks(self, *, start: datetime, end: datetime) -> list[CsatWeek]:
        """Ratings per week and action of the requests made in [start, end) (see
        `bot.core.feedback_trends`): an action's week with fewer than the minimum group size
        of ratings shows its count only."""
        least = self._config.min_group_size
        weeks: list[CsatWeek] = []
        with self._sessions() as session:
            for week_start, week_end in week_windows(start, end):
                for action, ratings, total in _ratings_between(session, week_start, week_end):
                    shown = ratings >= least
                    weeks.append(
                        CsatWeek(
                            action=action,
                            week_start=week_start,
                            ratings=ratings,
                            min_group_size=least,
                            average=total / ratings if shown else None,
                        )
                    )
        return weeks


def _ratings_between(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, int, int]]:
    """(action, ratings, sum of ratings) of the requests made in [start, end), by action."""
    rows = session.execute(
        select(CsatRequest.action, func.count(), func.sum(CsatRequest.score))
        .where(
            CsatRequest.requested_at >= start,
            CsatRequest.requested_at < end,
            CsatRequest.score.is_not(None),
        )
        .group_by(CsatRequest.action)
        .order_by(CsatRequest.action)
    ).all()
    return [(action, int(ratings), int(total or 0)) for action, ratings, total in rows]
