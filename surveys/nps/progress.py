"""How far a round's invitations have got, for `/platform nps` and the campaign list.

Invitations wait in `nps_delivery` for each person's working hours, so right after a run
few or none may be out: a bare "0 of 0" said nothing. Progress counts the audience, the
invitations out and waiting, and says when the next waiting one goes out, in its
recipient's own time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.nps.models import REACHED, DeliveryState, NpsDelivery, NpsRound
from surveys.schedule import zone

WAITING = (DeliveryState.PENDING, DeliveryState.SENDING)


@dataclass(frozen=True)
class DeliveryProgress:
    audience: int | None  # None until the fan-out has worked out who to ask
    reached: int = 0
    waiting: int = 0
    failed: int = 0
    # When the next waiting invitation goes out, in its recipient's time zone; None when
    # nothing waits or it is due now.
    next_local: datetime | None = None


def delivery_progress(
    session: Session, rounds: Sequence[NpsRound], *, now: datetime, fallback_tz: str
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


def _next_send(session: Session, round_id: int, now: datetime, fallback_tz: str) -> datetime | None:
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
