"""Writes shared by the round-based surveys' delivery ledgers (`nps_delivery`,
`maturity_delivery`): both tables have the same delivery columns (id, round_id, state,
claimed_by, claimed_at, channel, ts, error, sent_at), and each feature's `Ledger` adapter
(see `surveys.delivery`) records its outcomes through these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, or_, update
from sqlalchemy.orm import Session

from bot.core.db import Base, SessionFactory, insert_ignore, rowcount
from integrations.protocols import PostedMessage
from surveys.delivery import DeliveryState, Unsent

STALE_SEND = timedelta(seconds=60)  # longer than one chat.postMessage can take
_INSERT_CHUNK = 500


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def confirm_sent(
    sessions: SessionFactory,
    model: type[Base],
    sent: Sequence[tuple[int, PostedMessage]],
    at: datetime,
) -> None:
    """Record rows (by id) as sent, with where each message landed."""
    rows = [
        {
            "id": row_id,
            "state": DeliveryState.SENT,
            "channel": posted.channel,
            "ts": posted.ts,
            "sent_at": at,
            "error": None,
        }
        for row_id, posted in sent
    ]
    with sessions.begin() as session:
        session.execute(update(model), rows)


def settle(
    sessions: SessionFactory, model: type[Base], row_id: int, outcome: Unsent, error: str
) -> None:
    """Record an outcome other than sent; a 429 (pending) frees the row for any sender."""
    values: dict[str, Any] = {"state": outcome, "error": error}
    if outcome == DeliveryState.PENDING:
        # Slack did not carry the post out: the row may be claimed again, by anyone.
        values.update(error=None, claimed_by=None, claimed_at=None)
    columns = _table(model).c
    with sessions.begin() as session:
        session.execute(
            update(model)
            .where(
                columns.id == row_id,
                # A slow post may finish after recovery marked it unconfirmed: the post's
                # own answer is the better record.
                columns.state.in_([DeliveryState.SENDING, DeliveryState.UNCONFIRMED]),
            )
            .values(**values)
        )


def recover_stale(
    session: Session,
    model: type[Base],
    round_id: int,
    now: datetime,
    *,
    taken_over_from_others: str | None = None,
) -> int:
    """Rows left `sending` by a sender that died: outcome unknown, never posted again.

    A row claimed over `STALE_SEND` ago is one whatever claimed it. With
    `taken_over_from_others` (this sender's id, given when a fan-out job resumes after its
    last runner stopped: its lease ran out), so is every row another sender claimed: the
    runner that claimed it is gone, and its reminders must not wait for a minute that the
    next run may never look at again. A sender still alive elsewhere loses nothing: its own
    answer (`confirm_sent`, `settle`) still records the row.
    """
    columns = _table(model).c
    stale = columns.claimed_at < now - STALE_SEND
    if taken_over_from_others is not None:
        stale = or_(stale, columns.claimed_by != taken_over_from_others)
    result = session.execute(
        update(model)
        .where(
            columns.round_id == round_id,
            columns.state == DeliveryState.SENDING,
            stale,
        )
        .values(state=DeliveryState.UNCONFIRMED, error="sender stopped mid-post")
    )
    return rowcount(result)


def insert_deliveries(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], *, unique: Sequence[str]
) -> int:
    """Add pending rows; one that exists (same `unique` columns) stays as it is. Returns how
    many were new."""
    inserted = 0
    key = _table(model).c.id
    for start in range(0, len(rows), _INSERT_CHUNK):
        statement = (
            insert_ignore(session, model, conflict=unique)
            .values(list(rows[start : start + _INSERT_CHUNK]))
            .returning(key)
        )
        inserted += len(session.execute(statement).all())
    return inserted
