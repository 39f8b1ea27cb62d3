"""Who a round was sent to, read from the fan-out's own ledger (`nps_delivery`).

A button value or a modal's private_metadata names a round, and could name any message;
both are claims from the payload. The ledger is the bot's record: a person may open, snooze
or answer a round only if it holds their invitation, and the thank-you edits a DM the
ledger says the bot posted to them, never a message the payload points at.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.nps.models import NpsDelivery

NOT_SENT = "This survey was not sent to you, so it cannot take your answer."


def was_invited(session: Session, round_id: int, user_id: str) -> bool:
    """Whether the round's audience included `user_id` (an invitation row exists)."""
    found = session.scalar(
        select(NpsDelivery.id)
        .where(
            NpsDelivery.round_id == round_id,
            NpsDelivery.user_id == user_id,
            NpsDelivery.kind == "invite",
        )
        .limit(1)
    )
    return found is not None


def latest_dm(session: Session, round_id: int, user_id: str) -> tuple[str, str] | None:
    """(channel, ts) of the newest survey DM of the round posted to `user_id`, if recorded."""
    found = session.execute(
        select(NpsDelivery.channel, NpsDelivery.ts)
        .where(
            NpsDelivery.round_id == round_id,
            NpsDelivery.user_id == user_id,
            NpsDelivery.channel.is_not(None),
            NpsDelivery.ts.is_not(None),
        )
        .order_by(NpsDelivery.sent_at.desc(), NpsDelivery.id.desc())
        .limit(1)
    ).first()
    if found is None or found.channel is None or found.ts is None:
        return None
    return found.channel, found.ts
