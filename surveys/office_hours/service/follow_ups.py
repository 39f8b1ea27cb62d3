"""Office-hours follow-ups: one 1-5 question DMed to each attendee after the session.

The DMs go through the outbox (`surveys.delivery`) with `office_hours_attendee` as the
ledger: `follow_up_state` moves from empty (waiting) to sending, then sent, or unconfirmed
or failed; a 429 empties it again, so the DM is posted once Slack allows. A rating counts
only from a person whose follow-up was (or may have been) posted: the button's value names a
session, and only the DM sent to this person for it makes the click theirs to make.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from bot.core.db import SessionFactory
from bot.core.errors import NotAllowed, NotFound
from integrations.protocols import PostedMessage
from surveys.delivery import REACHED, Content, DeliveryState, DmOutbox, Skip, Unsent, claim_next
from surveys.office_hours.models import OfficeHoursAttendee, OfficeHoursSession
from surveys.office_hours.service.types import OfficeHoursMessages, Schedules

logger = logging.getLogger(__name__)

# `sending` too: the DM is out before its state is written, so a quick click may come first.
FOLLOW_UP_POSTED = (DeliveryState.SENDING, *REACHED)


@dataclass(frozen=True)
class FollowUp:
    """A claimed attendee: the follow-up goes to their DM."""

    to: str
    thread_ts: None = None


class SessionFollowUps:
    """`Ledger` of one session's follow-ups for the outbox."""

    def __init__(self, *, sessions: SessionFactory, session_id: int, content: Content) -> None:
        self._sessions = sessions
        self._session_id = session_id
        self._content = content

    def claim(self) -> FollowUp | None:
        found = claim_next(
            self._sessions,
            key=OfficeHoursAttendee.user_id,
            waiting=[
                OfficeHoursAttendee.session_id == self._session_id,
                OfficeHoursAttendee.follow_up_state.is_(None),
            ],
            order_by=[OfficeHoursAttendee.created_at],
            claimed={"follow_up_state": DeliveryState.SENDING},
            returning=[OfficeHoursAttendee.user_id],
        )
        return None if found is None else FollowUp(found.user_id)

    def message(self, item: FollowUp) -> Content | Skip:
        return self._content

    def confirm(self, sent: Sequence[tuple[FollowUp, PostedMessage]]) -> None:
        rows = [
            {
                "session_id": self._session_id,
                "user_id": item.to,
                "follow_up_state": DeliveryState.SENT,
            }
            for item, _ in sent
        ]
        with self._sessions.begin() as session:
            session.execute(update(OfficeHoursAttendee), rows)

    def settle(self, item: FollowUp, outcome: Unsent, error: str) -> None:
        if outcome != DeliveryState.PENDING:
            logger.warning("office hours follow-up to a person not sent (%s): %s", outcome, error)
        with self._sessions.begin() as session:
            session.execute(
                update(OfficeHoursAttendee)
                .where(
                    OfficeHoursAttendee.session_id == self._session_id,
                    OfficeHoursAttendee.user_id == item.to,
                    OfficeHoursAttendee.follow_up_state == DeliveryState.SENDING,
                )
                # Pending is the empty state here: the attendee may be claimed again.
                .values(follow_up_state=None if outcome == DeliveryState.PENDING else outcome)
            )


class FollowUpService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        schedules: Schedules,
        outbox: DmOutbox,
        messages: OfficeHoursMessages,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._schedules = schedules
        self._outbox = outbox
        self._messages = messages
        self._clock = clock

    def send(self, session_id: int) -> int:
        """DM each attendee the follow-up question once; returns how many were sent."""
        with self._sessions() as session:
            row = session.get(OfficeHoursSession, session_id)
            if row is None:
                raise NotFound("This office-hours session no longer exists.")
            info = self._schedules.info(row)
        ledger = SessionFollowUps(
            sessions=self._sessions, session_id=session_id, content=self._messages.follow_up(info)
        )
        return self._outbox.drain(ledger)[DeliveryState.SENT]

    def rate(self, *, session_id: int, user_id: str, rating: int) -> None:
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1..5")
        with self._sessions.begin() as session:
            row = session.get(OfficeHoursAttendee, {"session_id": session_id, "user_id": user_id})
            if row is None or row.follow_up_state not in FOLLOW_UP_POSTED:
                raise NotAllowed("Only people asked for feedback on this session can rate it.")
            row.rating = rating
            row.rated_at = self._clock()
