"""NPS per round over a period, for `/platform stats` through `Core.feedback_trends`.

A round's figure needs as many answers as the stricter of the group size it was opened with
(what its respondents were told) and its campaign's size now; with fewer it shows its count
only. Rounds of campaigns no longer configured are left out: campaign names label metrics,
which take names from the config only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select

from bot.core.db import SessionFactory
from bot.core.feedback_trends import NpsRoundResult, NpsScore
from surveys.nps.models import NpsAnswer, NpsRound
from surveys.nps.service.types import CampaignCatalog


class NpsTrend:
    """`bot.core.feedback_trends.NpsRounds` on the NPS tables."""

    def __init__(self, *, sessions: SessionFactory, catalog: CampaignCatalog) -> None:
        self._sessions = sessions
        self._catalog = catalog

    def nps_rounds(self, *, start: datetime, end: datetime) -> list[NpsRoundResult]:
        sizes = {campaign.name: campaign.min_group_size for campaign in self._catalog}
        if not sizes:
            return []
        promoters = func.sum(case((NpsAnswer.score >= 9, 1), else_=0))
        detractors = func.sum(case((NpsAnswer.score <= 6, 1), else_=0))
        query = (
            select(NpsRound, func.count(NpsAnswer.id), promoters, detractors)
            .outerjoin(NpsAnswer, NpsAnswer.round_id == NpsRound.id)
            .where(
                NpsRound.campaign.in_(sizes),
                NpsRound.opened_at >= start,
                NpsRound.opened_at < end,
            )
            .group_by(NpsRound.id)
            .order_by(NpsRound.campaign, NpsRound.number)
        )
        with self._sessions() as session:
            rows = session.execute(query).all()
        results = []
        for round_, answers, promoted, detracted in rows:
            responses = int(answers)
            least = max(round_.min_group_size, sizes[round_.campaign])
            score = _score(responses, int(promoted or 0), int(detracted or 0))
            results.append(
                NpsRoundResult(
                    campaign=round_.campaign,
                    number=round_.number,
                    opened_at=round_.opened_at,
                    responses=responses,
                    min_group_size=least,
                    result=score if responses >= least else None,
                )
            )
        return results


def _score(responses: int, promoters: int, detractors: int) -> NpsScore:
    return NpsScore(
        promoters=promoters,
        passives=responses - promoters - detractors,
        detractors=detractors,
    )
