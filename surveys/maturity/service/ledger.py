"""The round's DM ledger, `maturity_delivery`: the outbox's adapter, and who a round asked.

One row per round, team, lead and kind (invite, reminder-N), unique; the outbox
(`surveys.delivery`) moves it pending → sending → sent, or unconfirmed, failed, skipped.
A button value or a modal's private_metadata names a round and a team: claims from the
payload. The ledger is the bot's record: a lead may open or answer for a team only if it
holds their invitation for that team.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory
from integrations.protocols import PostedMessage
from surveys import round_ledger
from surveys.delivery import Content, DeliveryState, Skip, Unsent, claim_next
from surveys.maturity.models import MaturityDelivery, MaturityRespondent
from surveys.maturity.service.types import Invitee, MaturityMessages, RoundRef

NOT_SENT = "This assessment was not sent to you for this team, so it cannot take your answer."


@dataclass(frozen=True)
class Invitation:
    """A claimed `maturity_delivery` row."""

    id: int
    to: str
    team: str
    kind: str
    thread_ts: None = None


class RoundDeliveries:
    """`Ledger` of one round's DMs for the outbox."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        round_: RoundRef,
        team_names: Mapping[str, str],
        messages: MaturityMessages,
        clock: Callable[[], datetime],
        worker: str,
    ) -> None:
        self._sessions = sessions
        self._round = round_
        self._team_names = team_names
        self._messages = messages
        self._clock = clock
        self._worker = worker

    def claim(self) -> Invitation | None:
        now = self._clock()
        found = claim_next(
            self._sessions,
            key=MaturityDelivery.id,
            waiting=[
                MaturityDelivery.round_id == self._round.id,
                MaturityDelivery.state == DeliveryState.PENDING,
                MaturityDelivery.send_after <= now,
            ],
            order_by=[MaturityDelivery.send_after],
            claimed={"state": DeliveryState.SENDING, "claimed_by": self._worker, "claimed_at": now},
            returning=[
                MaturityDelivery.id,
                MaturityDelivery.user_id,
                MaturityDelivery.team,
                MaturityDelivery.kind,
            ],
        )
        if found is None:
            return None
        return Invitation(found.id, found.user_id, found.team, found.kind)

    def message(self, item: Invitation) -> Content | Skip:
        if item.kind != "invite" and self._needless(item):
            return Skip("answered or closed")
        invitee = Invitee(item.team, self._team_names.get(item.team, item.team))
        return self._messages.invitation(self._round, invitee, kind=item.kind)

    def _needless(self, item: Invitation) -> bool:
        if self._clock() >= self._round.closes_at:
            return True
        with self._sessions() as session:
            return has_answered(session, self._round.id, item.team, item.to)

    def confirm(self, sent: Sequence[tuple[Invitation, PostedMessage]]) -> None:
        rows = [(item.id, posted) for item, posted in sent]
        round_ledger.confirm_sent(self._sessions, MaturityDelivery, rows, self._clock())

    def settle(self, item: Invitation, outcome: Unsent, error: str) -> None:
        round_ledger.settle(self._sessions, MaturityDelivery, item.id, outcome, error)


def recover_stale(
    session: Session, round_id: int, now: datetime, *, taken_over_from_others: str | None = None
) -> int:
    """Rows left `sending` by a sender that died: outcome unknown, never posted again."""
    return round_ledger.recover_stale(
        session, MaturityDelivery, round_id, now, taken_over_from_others=taken_over_from_others
    )


def insert_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Add pending rows; one that exists stays as it is. Returns how many were new."""
    return round_ledger.insert_deliveries(
        session, MaturityDelivery, rows, unique=["round_id", "team", "user_id", "kind"]
    )


def was_invited(session: Session, round_id: int, team: str, user_id: str) -> bool:
    """Whether the round asked `user_id` to answer for `team`."""
    found = session.scalar(
        select(MaturityDelivery.id)
        .where(
            MaturityDelivery.round_id == round_id,
            MaturityDelivery.team == team,
            MaturityDelivery.user_id == user_id,
            MaturityDelivery.kind == "invite",
        )
        .limit(1)
    )
    return found is not None


def has_answered(session: Session, round_id: int, team: str, user_id: str) -> bool:
    key = {"round_id": round_id, "team": team, "user_id": user_id}
    return session.get(MaturityRespondent, key) is not None


def latest_dm(session: Session, round_id: int, team: str, user_id: str) -> tuple[str, str] | None:
    """(channel, ts) of the newest DM of the round to `user_id` about `team`, if recorded."""
    found = session.execute(
        select(MaturityDelivery.channel, MaturityDelivery.ts)
        .where(
            MaturityDelivery.round_id == round_id,
            MaturityDelivery.team == team,
            MaturityDelivery.user_id == user_id,
            MaturityDelivery.channel.is_not(None),
            MaturityDelivery.ts.is_not(None),
        )
        .order_by(MaturityDelivery.sent_at.desc(), MaturityDelivery.id.desc())
        .limit(1)
    ).first()
    if found is None or found.channel is None or found.ts is None:
        return None
    return found.channel, found.ts
