"""Adoption figures: one row per /platform subcommand use.

Uses are recorded off the request path: `UsageLog.record` only queues, and a writer thread
inserts the queue in batches (one statement per batch). A crash can lose the last second of
figures, never a command; `close()` flushes what is queued.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, Table, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, SessionFactory, UtcDateTime, utcnow

logger = logging.getLogger(__name__)

_FLUSH_SECONDS = 1.0
_MAX_BATCH = 500


class CommandUsage(Base):
    __tablename__ = "command_usage"
    __table_args__ = (Index("ix_command_usage_subcommand_created_at", "subcommand", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[str] = mapped_column(String(32))
    team: Mapped[str | None] = mapped_column(String(64))
    subcommand: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    duration_ms: Mapped[int]


_TABLE = Table("command_usage", Base.metadata)


class UsageLog:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def record(
        self, *, user_id: str, team: str | None, subcommand: str, outcome: str, duration_ms: int
    ) -> None:
        """Queue one use; the writer thread stores it within about a second."""
        self._queue.put(
            {
                "created_at": utcnow(),
                "user_id": user_id,
                "team": team,
                "subcommand": subcommand,
                "outcome": outcome,
                "duration_ms": duration_ms,
            }
        )
        self._ensure_writer()

    def flush(self) -> int:
        """Store everything queued so far; returns how many uses were written."""
        batch: list[dict[str, Any]] = []
        while len(batch) < _MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            try:
                with self._sessions.begin() as session:
                    # Core insert on the table: one multi-row INSERT, no ORM bookkeeping.
                    session.execute(insert(_TABLE), batch)
            except Exception:
                for item in batch:  # keep them for the next attempt
                    self._queue.put(item)
                raise
        return len(batch)

    def close(self) -> None:
        with self._lock:
            self._stop.set()
            writer = self._writer
        if writer is not None:
            writer.join(timeout=5)
        while self.flush():
            pass

    def counts(self, *, since: timedelta) -> dict[str, tuple[int, int]]:
        """Uses and distinct users per subcommand over the last `since`."""
        self.flush()
        start = utcnow() - since
        with self._sessions() as session:
            rows = session.execute(
                select(
                    CommandUsage.subcommand,
                    func.count(),
                    func.count(func.distinct(CommandUsage.user_id)),
                )
                .where(CommandUsage.created_at >= start)
                .group_by(CommandUsage.subcommand)
            ).all()
        return {name: (uses, users) for name, uses, users in rows}

    def _ensure_writer(self) -> None:
        if self._writer is not None:
            return
        with self._lock:
            if self._writer is None and not self._stop.is_set():
                writer = threading.Thread(target=self._run, name="usage-writer", daemon=True)
                writer.start()
                self._writer = writer

    def _run(self) -> None:
        while not self._stop.wait(_FLUSH_SECONDS):
            try:
                while self.flush() == _MAX_BATCH:
                    pass
            except Exception:
                logger.exception("could not store usage figures; will retry")
