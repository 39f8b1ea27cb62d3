"""The fan-out's ledger, `nps_delivery`: the outbox's adapter for it, and who a round reached.

One row per round, person and message kind (invite, snooze, reminder-N), unique; the outbox
(`surveys.delivery`) moves it pending → sending → sent, or unconfirmed, failed, skipped.

A button value or a modal's private_metadata names a round, and could name any message;
both are claims from the payload. The ledger is the bot's record: a person may open, snooze
or answer a round only if it holds their invitation, and the thank-you edits a DM the
ledger says the bot posted to them, never a message the payload points at.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory
from integrations.protocols import PostedMessage
from surveys import round_ledger
from surveys.delivery import Content, DeliveryState, Skip, Unsent, claim_next
from surveys.nps.models import NpsDelivery, NpsRespondent
from surveys.nps.service.types import NpsMessages, RoundRef

logger = logging.getLogger(__name__)

NOT_SENT = "This survey was not sent to you, so it cannot take your answer."


@dataclass(frozen=True)
class Invitation:
    """A claimed `nps_delivery` row: the invitation, a reminder or a snoozed repeat."""

    id: int
    to: str
    kind: str
    thread_ts: None = None


class RoundDeliveries:
    """`Ledger` of one round's DMs for the outbox."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        round_: RoundRef,
        messages: NpsMessages,
        clock: Callable[[], datetime],
        worker: str,
    ) -> None:
        self._sessions = sessions
        self._round = round_
        self._messages = messages
        self._clock = clock
        self._worker = worker
        self._contents: dict[str, Content] = {}

    def claim(self) -> Invitation | None:
        now = self._clock()
        found = claim_next(
            self._sessions,
            key=NpsDelivery.id,
            waiting=[
                NpsDelivery.round_id == self._round.id,
                NpsDelivery.state == DeliveryState.PENDING,
                NpsDelivery.send_after <= now,
            ],
            # send_after alone, so the index (round_id, state, send_after) yields rows in
            # order and the database stops at the first free one instead of sorting them all.
            order_by=[NpsDelivery.send_after],
            claimed={"state": DeliveryState.SENDING, "claimed_by": self._worker, "claimed_at": now},
            returning=[NpsDelivery.id, NpsDelivery.user_id, NpsDelivery.kind],
        )
        return None if found is None else Invitation(found.id, found.user_id, found.kind)

    def message(self, item: Invitation) -> Content | Skip:
        if item.kind != "invite" and self._needless(item.to):
            return Skip("answered or closed")
        if item.kind not in self._contents:
            self._contents[item.kind] = self._messages.invitation(self._round, kind=item.kind)
        return self._contents[item.kind]

    def _needless(self, user_id: str) -> bool:
        if self._clock() >= self._round.closes_at:
            return True
        with self._sessions() as session:
            key = {"round_id": self._round.id, "user_id": user_id}
            return session.get(NpsRespondent, key) is not None

    def confirm(self, sent: Sequence[tuple[Invitation, PostedMessage]]) -> None:
        rows = [(item.id, posted) for item, posted in sent]
        round_ledger.confirm_sent(self._sessions, NpsDelivery, rows, self._clock())

    def settle(self, item: Invitation, outcome: Unsent, error: str) -> None:
        round_ledger.settle(self._sessions, NpsDelivery, item.id, outcome, error)


def recover_stale(
    session: Session, round_id: int, now: datetime, *, taken_over_from_others: str | None = None
) -> int:
    """Rows left `sending` by a sender that died: outcome unknown, never posted again."""
    return round_ledger.recover_stale(
        session, NpsDelivery, round_id, now, taken_over_from_others=taken_over_from_others
    )


def insert_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Add pending rows; one that exists (same round, person and kind) stays as it is.
    Returns how many were new."""
    return round_ledger.insert_deliveries(
        session, NpsDelivery, rows, unique=["round_id", "user_id", "kind"]
    )


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
