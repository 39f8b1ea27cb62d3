"""Adoption figures: one row per /platform subcommand use.

Uses are recorded off the request path: `UsageLog.record` only queues, and a writer thread
inserts the queue in batches (one statement per batch). A crash can lose the last second of
figures, never a command; `close()` flushes what is queued.

Figures never stop a command nor each other: values are cut to their columns; the queue is
bounded (when full, new uses are dropped and counted); and a batch the database refuses is
retried row by row, so a row it refuses is dropped alone. When the database is down, the
batch waits in the queue for the next attempt.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Table, insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, SessionFactory, UtcDateTime, utcnow
from bot.core.metrics import USAGE_DROPPED

logger = logging.getLogger(__name__)

_FLUSH_SECONDS = 1.0
_MAX_BATCH = 500
# About ten minutes of a busy workspace's commands while the database is away.
MAX_QUEUED = 10_000
_WIDTHS = {"user_id": 32, "team": 64, "subcommand": 64, "outcome": 32}
_MAX_DURATION_MS = 2**31 - 1  # an INTEGER column on PostgreSQL and MariaDB
_QUEUE_FULL = "queue_full"
_REFUSED = "refused"
for _reason in (_QUEUE_FULL, _REFUSED):
    USAGE_DROPPED.labels(reason=_reason)


class CommandUsage(Base):
    __tablename__ = "command_usage"
    __table_args__ = (Index("ix_command_usage_subcommand_created_at", "subcommand", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    user_id: Mapped[str] = mapped_column(String(_WIDTHS["user_id"]))
    team: Mapped[str | None] = mapped_column(String(_WIDTHS["team"]))
    subcommand: Mapped[str] = mapped_column(String(_WIDTHS["subcommand"]))
    outcome: Mapped[str] = mapped_column(String(_WIDTHS["outcome"]))
    duration_ms: Mapped[int]


_TABLE = Table("command_usage", Base.metadata)


class UsageLog:
    def __init__(self, sessions: SessionFactory, *, max_queued: int = MAX_QUEUED) -> None:
        self._sessions = sessions
        self._max_queued = max_queued
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_queued)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._dropped_when_full = 0

    def record(
        self, *, user_id: str, team: str | None, subcommand: str, outcome: str, duration_ms: int
    ) -> None:
        """Queue one use; the writer thread stores it within about a second."""
        row: dict[str, Any] = {
            "created_at": utcnow(),
            "user_id": user_id,
            "team": team,
            "subcommand": subcommand,
            "outcome": outcome,
            "duration_ms": min(max(duration_ms, 0), _MAX_DURATION_MS),
        }
        for name, width in _WIDTHS.items():
            if row[name] is not None:
                row[name] = row[name][:width]
        self._enqueue(row)
        self._ensure_writer()

    def flush(self) -> int:
        """Store up to one batch of what is queued; returns how many uses it took off the queue.

        Raises when the database cannot be reached, after putting the batch back.
        """
        self._report_full_queue()
        batch: list[dict[str, Any]] = []
        while len(batch) < _MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            try:
                self._insert(batch)
            except Exception as error:
                if not _refuses_rows(error):
                    self._requeue(batch)
                    raise
                self._insert_one_by_one(batch)
        return len(batch)

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        with self._sessions.begin() as session:
            # Core insert on the table: one multi-row INSERT, no ORM bookkeeping.
            session.execute(insert(_TABLE), rows)

    def _insert_one_by_one(self, batch: list[dict[str, Any]]) -> None:
        refused: list[str] = []
        try:
            for position, row in enumerate(batch):
                try:
                    self._insert([row])
                except Exception as error:
                    if not _refuses_rows(error):
                        self._requeue(batch[position:])
                        raise
                    refused.append(type(error).__name__)
        finally:
            if refused:
                USAGE_DROPPED.labels(reason=_REFUSED).inc(len(refused))
                logger.warning(
                    "dropped %d usage record%s the database refused (%s)",
                    len(refused),
                    "" if len(refused) == 1 else "s",
                    ", ".join(sorted(set(refused))),
                )

    def _enqueue(self, row: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            USAGE_DROPPED.labels(reason=_QUEUE_FULL).inc()
            with self._lock:
                self._dropped_when_full += 1

    def _requeue(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:  # kept for the next attempt
            self._enqueue(row)

    def _report_full_queue(self) -> None:
        with self._lock:
            dropped, self._dropped_when_full = self._dropped_when_full, 0
        if dropped:
            logger.warning(
                "dropped %d usage records: the queue of %d was full", dropped, self._max_queued
            )

    def close(self) -> None:
        with self._lock:
            self._stop.set()
            writer = self._writer
        if writer is not None:
            writer.join(timeout=5)
        while self.flush():
            pass

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


def _refuses_rows(error: Exception) -> bool:
    """Whether the database refused the rows themselves (rather than being unreachable).

    DataError and IntegrityError are about the values; a StatementError that is not from the
    driver was raised while binding them. Anything else (a lost connection, a missing table)
    may pass, so the rows wait for the next attempt.
    """
    if isinstance(error, DataError | IntegrityError):
        return True
    return isinstance(error, StatementError) and not isinstance(error, DBAPIError)
