"""The NPS answers export: one CSV row per answer, as anonymous as each round promised.

Respondents were told that team results appear only for groups of `min_group_size` or more
answers; a CSV is a team result too. So within each round, a team with fewer answers than
that is written as `other teams` (as are answers without a team, when they are that few),
never by name: a small team, or a lone answer, cannot be picked out of the file. The size
is the round's own (what its invitation said) or the campaign's current one, if larger.

Anonymous rounds carry no user id and no time finer than a day, and their rows are ordered
by day and then by the answer's random key, so the order says nothing about who answered
when. Comments a spreadsheet would run as formulas are prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.nps.models import NpsAnswer, NpsRound

OTHER_TEAMS = "other teams"
HEADER = ("campaign", "round", "round_date", "answered_on", "score", "team", "user_id", "comment")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class _Answer:
    campaign: str
    round_id: int
    round_number: int
    round_date: date
    group_size: int
    attributed: bool
    answered_on: date
    score: int
    team: str | None
    user_id: str | None
    comment: str | None


def export_answers(
    session: Session, campaign: str | None, *, min_group_sizes: Mapping[str, int]
) -> bytes:
    """The answers of `campaign` (None: every campaign) as UTF-8 CSV."""
    answers = _load(session, campaign, min_group_sizes)
    group_counts = Counter((a.round_id, a.team) for a in answers)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for a in answers:
        named = group_counts[(a.round_id, a.team)] >= a.group_size
        writer.writerow(
            [
                a.campaign,
                a.round_number,
                a.round_date.isoformat(),
                a.answered_on.isoformat(),
                a.score,
                (a.team or "") if named else OTHER_TEAMS,
                (a.user_id or "") if a.attributed else "",
                _csv_safe(a.comment or ""),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _load(
    session: Session, campaign: str | None, min_group_sizes: Mapping[str, int]
) -> list[_Answer]:
    query = (
        select(NpsRound, NpsAnswer)
        .join(NpsAnswer, NpsAnswer.round_id == NpsRound.id)
        .order_by(NpsRound.scheduled_for, NpsRound.id, NpsAnswer.answered_on, NpsAnswer.id)
    )
    if campaign is not None:
        query = query.where(NpsRound.campaign == campaign)
    return [
        _Answer(
            campaign=round_.campaign,
            round_id=round_.id,
            round_number=round_.id,
            round_date=round_.scheduled_for.date(),
            group_size=max(round_.min_group_size, min_group_sizes.get(round_.campaign, 1)),
            attributed=round_.anonymity == "attributed",
            answered_on=answer.answered_on,
            score=answer.score,
            team=answer.team,
            user_id=answer.user_id,
            comment=answer.comment,
        )
        for round_, answer in session.execute(query)
    ]


def _csv_safe(text: str) -> str:
    # A comment starting with = + - @ would run as a formula when the CSV is opened in a
    # spreadsheet.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
