"""Answering an NPS round: who may, one answer per person and round, and the thank-you.

Only people the round's ledger holds an invitation for may open or answer it (see
ledger.py); the first answer stands. In anonymous rounds the answer row holds no user id and
who answered is kept apart (`nps_respondent`), for reminders only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from bot.core.db import SessionFactory, insert_ignore
from bot.core.errors import NotFound
from bot.core.identity import IdentityService
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from surveys.nps.models import NpsAnswer, NpsRespondent, NpsRound
from surveys.nps.service.ledger import latest_dm, was_invited
from surveys.nps.service.types import AnswerOutcome, NpsMessages, RoundRef

logger = logging.getLogger(__name__)


class AnswerService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        identity: IdentityService,
        messenger: Messenger,
        messages: NpsMessages,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._identity = identity
        self._messenger = messenger
        self._messages = messages
        self._clock = clock

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
            first = session.execute(
                insert_ignore(session, NpsRespondent, conflict=["round_id", "user_id"])
                .values(round_id=round_id, user_id=user_id)
                .returning(NpsRespondent.user_id)
            ).first()
            if first is None:
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
            return  # the post's ts was never recorded (see surveys.delivery): nothing to edit
        content = self._messages.thank_you(round_, score=score)
        try:
            self._messenger.update(message[0], message[1], text=content.text, blocks=content.blocks)
        except IntegrationError as exc:
            logger.warning("NPS round %d: could not update a DM to thank-you: %s", round_.id, exc)
