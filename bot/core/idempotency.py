"""Run each action once: the first request claims its key, retries and double clicks don't.

Slack retries an event or command it did not see acknowledged in 3 s (`X-Slack-Retry-Num`),
and users double-click buttons. Every mutating action derives a key from the request
(trigger id, action id + message ts, …) and calls `claim`; only the caller that gets True
runs the action. Exactly-once rests on the primary key, so it holds across threads,
processes and replicas sharing the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import (
    Base,
    JsonDocument,
    SessionFactory,
    UtcDateTime,
    insert_ignore,
    rowcount,
    utcnow,
)
from bot.core.redaction import redact

KEY_MAX_LENGTH = 255


class IdempotencyKey(Base):
    __tablename__ = "idempotency_key"

    key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH), primary_key=True)
    scope: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)


class IdempotencyStore:
    """Claims on idempotency keys, and what the first run answered."""

    def __init__(self, sessions: SessionFactory, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock

    def claim(self, key: str, *, scope: str) -> bool:
        """True for exactly one caller per key; every later caller gets False.

        `scope` says what the key guards (e.g. "/platform db create"), for operators
        reading the table.
        """
        with self._sessions.begin() as session:
            statement = (
                insert_ignore(session, IdempotencyKey, conflict=["key"])
                .values(key=_stored(key), scope=scope[:255], created_at=self._clock())
                .returning(IdempotencyKey.key)
            )
            # Losing is normal here: only the INSERT that created the row returns it.
            return session.execute(statement).first() is not None

    def result(self, key: str) -> dict[str, Any] | None:
        """What `remember` stored for a claimed key, or None (not claimed or still running)."""
        with self._sessions() as session:
            return session.scalar(
                select(IdempotencyKey.result).where(IdempotencyKey.key == _stored(key))
            )

    def remember(self, key: str, result: dict[str, Any]) -> None:
        """Store the answer for later duplicates (e.g. the thread to point them to).

        The result is redacted like an audit record, so a secret passed here by mistake
        is not kept; raises LookupError for a key that was never claimed.
        """
        with self._sessions.begin() as session:
            changed = rowcount(
                session.execute(
                    update(IdempotencyKey)
                    .where(IdempotencyKey.key == _stored(key))
                    .values(result=redact(result))
                )
            )
        if changed != 1:
            raise LookupError(f"idempotency key {key!r} was never claimed")

    def prune(self, older_than: timedelta) -> int:
        """Delete claims older than `older_than`; returns how many were deleted."""
        cutoff = self._clock() - older_than
        with self._sessions.begin() as session:
            return rowcount(
                session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
            )


def _stored(key: str) -> str:
    """Keys longer than the column are stored as their SHA-256, which is still unique."""
    if len(key) <= KEY_MAX_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
