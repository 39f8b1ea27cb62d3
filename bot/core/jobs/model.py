"""The job table and the values the queue and the runner hand out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Enum,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, JsonDocument, UtcDateTime
from bot.core.errors import PlatformError

Clock = Callable[[], datetime]
Backoff = Callable[[int], timedelta]

LAST_ERROR_LIMIT = 500
KIND_LIMIT = 100
KEY_LIMIT = 200


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_run_after", "status", "run_after"),)

    # BIGINT on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(KIND_LIMIT))
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LIMIT), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    state: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[JobStatus] = mapped_column(
        Enum(
            JobStatus,
            native_enum=False,
            length=16,
            values_callable=lambda statuses: [status.value for status in statuses],
        )
    )
    attempts: Mapped[int] = mapped_column(Integer)
    # NULL means "the runner's configured default", so a config change reaches queued jobs.
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    run_after: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(LAST_ERROR_LIMIT))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class JobRef:
    """The row `enqueue` found or made; `created` is False when the key was already queued."""

    id: int
    kind: str
    status: JobStatus
    created: bool


@dataclass(frozen=True)
class JobInfo:
    """A snapshot of one job row."""

    id: int
    kind: str
    idempotency_key: str
    status: JobStatus
    payload: dict[str, Any]
    state: dict[str, Any]
    attempts: int
    max_attempts: int | None
    run_after: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: Job) -> JobInfo:
        return cls(
            id=row.id,
            kind=row.kind,
            idempotency_key=row.idempotency_key,
            status=JobStatus(row.status),
            payload=dict(row.payload),
            state=dict(row.state),
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            run_after=row.run_after,
            last_error=row.last_error,
            created_at=row.created_at,
            updated_at=row.updated_at,
            finished_at=row.finished_at,
        )


class PermanentJobError(PlatformError):
    """Raised by a handler when retrying cannot help; the message is shown to the user."""


class JobInterrupted(Exception):
    """The job was cancelled or taken over by another worker while this one ran it.

    Raised by `JobContext.checkpoint`; handlers let it propagate so the runner stops the run
    without recording an outcome that is no longer theirs to record.
    """
