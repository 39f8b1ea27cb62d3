"""Opening rounds: at most one open round per campaign, numbered 1, 2, … per campaign.

A round run by hand while another is open would invite everyone a second time, and a paused
campaign is paused for its admins' own reasons; both are refused with what to do instead.
Callers hold the campaign's state row (locked on PostgreSQL) while they check and insert, so
two runs at once cannot both pass; the unique (campaign, number) index backs that up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import Conflict
from surveys.nps.models import NpsRound


def check_can_run(session: Session, campaign: str, *, paused: bool, now: datetime) -> None:
    """Raise `Conflict` when a round of `campaign` may not be opened by hand now."""
    if paused:
        raise Conflict(
            f"Campaign `{campaign}` is paused, so it cannot be run. "
            f"Resume it first with `/platform nps resume {campaign}`."
        )
    still_open = session.scalars(
        select(NpsRound)
        .where(NpsRound.campaign == campaign, NpsRound.closes_at > now)
        .order_by(NpsRound.closes_at.desc())
        .limit(1)
    ).first()
    if still_open is not None:
        raise Conflict(
            f"Round {still_open.number} of `{campaign}` is still open: it takes answers until "
            f"{still_open.closes_at:%Y-%m-%d %H:%M} UTC. Run a new round after it closes."
        )


def next_number(session: Session, campaign: str) -> int:
    latest = session.scalar(select(func.max(NpsRound.number)).where(NpsRound.campaign == campaign))
    return int(latest or 0) + 1


def describe_round(session: Session, round_id: int) -> str:
    """A round as admins know it: "round 3 of `pulse`"."""
    found = session.get(NpsRound, round_id)
    return "an NPS round" if found is None else f"round {found.number} of `{found.campaign}`"
