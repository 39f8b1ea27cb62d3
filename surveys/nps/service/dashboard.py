"""The NPS rounds waiting for a person's answer, on their dashboard (`Core.dashboard`).

A round is shown while it is open, its invitation reached the person (posted, or possibly
posted) and they have not answered. Only the person's own rows are read (their invitation
and whether they answered): nothing of anyone else's, and nothing of any answer, so an
anonymous round stays anonymous. The button is the invitation's own "Take the survey" (its
action id and value), so a click opens the same modal after the same checks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import exists, select

from bot.core.dashboard import Button, CancelOutcome, DashboardItems, SurveyItem
from bot.core.db import SessionFactory
from bot.core.identity import Principal
from surveys.delivery import REACHED
from surveys.nps.ids import ActionId
from surveys.nps.models import NpsDelivery, NpsRespondent, NpsRound

ROUNDS_MAX = 20
"""Open rounds read per person: more than the number of campaigns anyone runs at once."""


class NpsDashboard:
    def __init__(self, *, sessions: SessionFactory, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    def items_for(self, principal: Principal) -> DashboardItems:
        me = principal.user_id
        answered = exists().where(
            NpsRespondent.round_id == NpsRound.id, NpsRespondent.user_id == me
        )
        query = (
            select(NpsRound.id, NpsRound.question, NpsRound.closes_at)
            .join(
                NpsDelivery,
                (NpsDelivery.round_id == NpsRound.id)
                & (NpsDelivery.user_id == me)
                & (NpsDelivery.kind == "invite"),
            )
            .where(NpsRound.closes_at > self._clock(), NpsDelivery.state.in_(REACHED), ~answered)
            .order_by(NpsRound.closes_at, NpsRound.id)
            .limit(ROUNDS_MAX)
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
        return DashboardItems(
            surveys=[
                SurveyItem(
                    what=f"{question} (open until {closes_at:%Y-%m-%d})",
                    buttons=(Button("Take the survey", ActionId.TAKE, str(round_id), "primary"),),
                )
                for round_id, question, closes_at in rows
            ]
        )

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        return None  # a survey is no request
