"""NPS results: scores per round, team breakdowns, the trend chart and the CSV export.

Scores, teams and comments are shown only with `min_group_size` answers, so nobody can be
singled out. Invitations wait in `nps_delivery` for each person's working hours, so right
after a run few or none may be out: a bare "0 of 0" said nothing. A round's progress counts
the audience, the invitations out and waiting, and says when the next waiting one goes out,
in its recipient's own time zone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory
from integrations.protocols import ChartRenderer
from surveys.config import Campaign
from surveys.delivery import REACHED, DeliveryState
from surveys.nps.models import NpsAnswer, NpsDelivery, NpsRespondent, NpsRound
from surveys.nps.service.export import export_answers
from surveys.nps.service.types import (
    CampaignCatalog,
    DeliveryProgress,
    NpsResults,
    RoundSummary,
    TeamResult,
)
from surveys.schedule import zone

LATEST_COMMENTS = 5
WAITING = (DeliveryState.PENDING, DeliveryState.SENDING)


def nps_of(scores: Iterable[int]) -> float | None:
    """% promoters (9-10) minus % detractors (0-6); None without answers."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return 100.0 * (promoters - detractors) / len(values)


class ResultsService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        catalog: CampaignCatalog,
        charts: ChartRenderer,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._charts = charts
        self._audit = audit
        self._clock = clock

    def results(self, name: str | None = None) -> NpsResults:
        campaign = self._catalog.get(name)
        name = campaign.name
        with self._sessions() as session:
            rounds = round_summaries(session, campaign, now=self._clock())
        teams: list[TeamResult] = []
        hidden = 0
        comments: list[str] = []
        if rounds and rounds[-1].answers >= campaign.min_group_size:
            with self._sessions() as session:
                by_team = _scores_by_team(session, rounds[-1].id)
                comments = _latest_comments(session, rounds[-1].id)
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

    def export_csv(self, name: str | None = None, *, actor: str) -> tuple[str, bytes]:
        """All answers (of one campaign or all) as CSV, as anonymous as each round promised."""
        if name is not None:
            self._catalog.get(name)
        sizes = {c.name: c.min_group_size for c in self._catalog}
        with self._sessions() as session:
            content = export_answers(session, name, min_group_sizes=sizes)
        self._audit.record(
            actor=actor, action="nps.export", outcome=Outcome.SUCCEEDED, target=name or "all"
        )
        return f"nps-{name or 'all'}-{self._clock():%Y%m%d}.csv", content


def round_summaries(
    session: Session, campaign: Campaign, *, now: datetime, last_only: bool = False
) -> list[RoundSummary]:
    """The campaign's rounds, oldest first (or only the latest), with counts and scores."""
    query = select(NpsRound).where(NpsRound.campaign == campaign.name)
    query = query.order_by(NpsRound.number.desc() if last_only else NpsRound.number)
    if last_only:
        query = query.limit(1)
    rounds = list(session.scalars(query))
    ids = [r.id for r in rounds]
    delivery = delivery_progress(session, rounds, now=now, fallback_tz=campaign.timezone)
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


def delivery_progress(
    session: Session, rounds: Sequence[NpsRound], *, now: datetime, fallback_tz: ZoneInfo
) -> dict[int, DeliveryProgress]:
    """Progress of each round's invitations, by round id."""
    counts: dict[int, dict[str, int]] = {}
    for round_id, state, count in session.execute(
        select(NpsDelivery.round_id, NpsDelivery.state, func.count())
        .where(NpsDelivery.round_id.in_([r.id for r in rounds]), NpsDelivery.kind == "invite")
        .group_by(NpsDelivery.round_id, NpsDelivery.state)
    ):
        counts.setdefault(round_id, {})[state] = int(count)
    progress = {}
    for round_ in rounds:
        by_state = counts.get(round_.id, {})
        waiting = sum(by_state.get(state, 0) for state in WAITING)
        progress[round_.id] = DeliveryProgress(
            audience=round_.audience_size,
            reached=sum(by_state.get(state, 0) for state in REACHED),
            waiting=waiting,
            failed=by_state.get(DeliveryState.FAILED, 0),
            next_local=_next_send(session, round_.id, now, fallback_tz) if waiting else None,
        )
    return progress


def _next_send(
    session: Session, round_id: int, now: datetime, fallback_tz: ZoneInfo
) -> datetime | None:
    found = session.execute(
        select(NpsDelivery.send_after, NpsDelivery.tz)
        .where(
            NpsDelivery.round_id == round_id,
            NpsDelivery.kind == "invite",
            NpsDelivery.state == DeliveryState.PENDING,
        )
        .order_by(NpsDelivery.send_after)
        .limit(1)
    ).first()
    if found is None:
        return None
    send_after, tz = found
    return None if send_after <= now else send_after.astimezone(zone(tz, fallback_tz))


def _scores_by_team(session: Session, round_id: int) -> dict[str, list[int]]:
    by_team: dict[str, list[int]] = {}
    for team, score in session.execute(
        select(NpsAnswer.team, NpsAnswer.score).where(
            NpsAnswer.round_id == round_id, NpsAnswer.team.is_not(None)
        )
    ):
        by_team.setdefault(team or "", []).append(score)
    return by_team


def _latest_comments(session: Session, round_id: int) -> list[str]:
    return list(
        session.scalars(
            select(NpsAnswer.comment)
            .where(NpsAnswer.round_id == round_id, NpsAnswer.comment.is_not(None))
            .order_by(NpsAnswer.answered_on.desc(), NpsAnswer.id)
            .limit(LATEST_COMMENTS)
        )
    )
