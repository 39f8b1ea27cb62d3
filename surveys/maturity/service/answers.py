"""Answering a maturity round: who may, one answer per lead, team and round, the thank-you.

Only a lead the round's ledger holds an invitation for (for that team) may open or answer
it; the first answer stands. With `attribute_to: team` the answer rows hold no user id and
who answered is kept apart (`maturity_respondent`), for double answers and reminders only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.core.db import SessionFactory, insert_ignore
from bot.core.errors import NotFound
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from surveys.maturity.config import LEVELS
from surveys.maturity.models import MaturityAnswer, MaturityRespondent, MaturityRound
from surveys.maturity.service.ledger import has_answered, latest_dm, was_invited
from surveys.maturity.service.types import AnswerOutcome, Invitee, MaturityMessages, RoundRef

logger = logging.getLogger(__name__)


class AnswerService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        team_names: Mapping[str, str],
        messenger: Messenger,
        messages: MaturityMessages,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._team_names = dict(team_names)
        self._messenger = messenger
        self._messages = messages
        self._clock = clock

    def invitee(self, team: str) -> Invitee:
        return Invitee(team, self._team_names.get(team, team))

    def round_for_answer(
        self, round_id: int, team: str, user_id: str
    ) -> tuple[RoundRef, AnswerOutcome | None]:
        """The round to open the modal for, and why it cannot be answered (None: it can)."""
        now = self._clock()
        with self._sessions() as session:
            row = session.get(MaturityRound, round_id)
            if row is None:
                raise NotFound("This assessment no longer exists.")
            round_ = RoundRef.of(row)
            if not was_invited(session, round_id, team, user_id):
                return round_, AnswerOutcome.NOT_INVITED
            if now >= row.closes_at:
                return round_, AnswerOutcome.CLOSED
            if has_answered(session, round_id, team, user_id):
                return round_, AnswerOutcome.ALREADY_ANSWERED
            return round_, None

    def answer(
        self, *, round_id: int, team: str, user_id: str, levels: Mapping[str, int]
    ) -> tuple[AnswerOutcome, RoundRef | None]:
        """Record one answer per lead, team and round; the first answer stands.

        `levels` must give every dimension of the round a level 1 … 5 (`ValueError` else).
        """
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.get(MaturityRound, round_id)
            if row is None:
                raise NotFound("This assessment no longer exists.")
            round_ = RoundRef.of(row)
            _check_levels(round_, levels)
            if not was_invited(session, round_id, team, user_id):
                return AnswerOutcome.NOT_INVITED, round_
            if now >= row.closes_at:
                return AnswerOutcome.CLOSED, round_
            first = session.execute(
                insert_ignore(session, MaturityRespondent, conflict=["round_id", "team", "user_id"])
                .values(round_id=round_id, team=team, user_id=user_id)
                .returning(MaturityRespondent.user_id)
            ).first()
            if first is None:
                return AnswerOutcome.ALREADY_ANSWERED, round_
            attributed = user_id if round_.attribute_to == "person" else None
            session.add_all(
                MaturityAnswer(
                    id=uuid.uuid4().hex,
                    round_id=round_id,
                    team=team,
                    dimension=dimension.key,
                    level=levels[dimension.key],
                    user_id=attributed,
                    answered_on=now.date(),
                )
                for dimension in round_.dimensions
            )
        return AnswerOutcome.RECORDED, round_

    def thank(self, round_: RoundRef, *, team: str, user_id: str) -> None:
        """Turn the lead's latest DM of the round for `team` into a thank-you."""
        with self._sessions() as session:
            message = latest_dm(session, round_.id, team, user_id)
        if message is None:
            return  # the post's ts was never recorded (see surveys.delivery): nothing to edit
        content = self._messages.thank_you(round_, self.invitee(team))
        try:
            self._messenger.update(message[0], message[1], text=content.text, blocks=content.blocks)
        except IntegrationError as exc:
            logger.warning("maturity round %d: could not thank a lead: %s", round_.number, exc)


def _check_levels(round_: RoundRef, levels: Mapping[str, int]) -> None:
    wanted = {d.key for d in round_.dimensions}
    if set(levels) != wanted or any(level not in LEVELS for level in levels.values()):
        raise ValueError("an answer gives every dimension of the round a level from 1 to 5")
