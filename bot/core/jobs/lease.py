"""Leases on job rows: claiming a due job, writing to it while held, keeping the lease alive.

A worker claims a row by setting it `running` with `locked_by` and `locked_until`; every
later write is conditional on still holding it (same worker, same attempt), so a worker
whose lease expired and was taken over cannot overwrite the new holder's progress.
PostgreSQL claims with `FOR UPDATE SKIP LOCKED`; SQLite, without row locks, with an
optimistic update that only succeeds if the row is still as read.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from bot.core.db import SessionFactory, rowcount
from bot.core.jobs.model import Clock, Job, JobStatus
from bot.core.jobs.notify import notify_new_job

# One logger for the whole package: operators filter on "bot.core.jobs".
logger = logging.getLogger("bot.core.jobs")


@dataclass(frozen=True)
class Claim:
    id: int
    kind: str
    payload: dict[str, Any]
    state: dict[str, Any]
    attempt: int
    max_attempts: int
    # The previous holder's lease expired after it had used the last attempt.
    exhausted: bool


class Ownership:
    """Writes to a claimed row, each conditional on this worker still holding it."""

    def __init__(
        self, sessions: SessionFactory, clock: Clock, job_id: int, worker: str, attempt: int
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.job_id = job_id
        self.worker = worker
        self.attempt = attempt

    def _held(self) -> ColumnElement[bool]:
        return and_(
            Job.id == self.job_id,
            Job.status == JobStatus.RUNNING,
            Job.locked_by == self.worker,
            Job.attempts == self.attempt,
        )

    def update(self, *, notify: bool = False, **values: Any) -> bool:
        values.setdefault("updated_at", self._clock())
        with self._sessions.begin() as session:
            result = session.execute(update(Job).where(self._held()).values(**values))
            held = rowcount(result) == 1
            if held and notify:
                notify_new_job(session)
            return held

    def save_state(self, state: dict[str, Any]) -> bool:
        return self.update(state=state)

    def extend(self, lease: timedelta) -> bool:
        now = self._clock()
        return self.update(locked_until=now + lease, updated_at=now)

    def finish(self, status: JobStatus, last_error: str | None = None) -> bool:
        now = self._clock()
        return self.update(
            status=status,
            locked_by=None,
            locked_until=None,
            last_error=last_error,
            finished_at=now,
            updated_at=now,
        )

    def requeue(self, run_after: datetime, last_error: str) -> bool:
        return self.update(
            status=JobStatus.QUEUED,
            locked_by=None,
            locked_until=None,
            last_error=last_error,
            run_after=run_after,
        )

    def release(self, *, attempt_started: bool = True) -> bool:
        """Give the job back now, keeping its checkpointed state.

        For a worker that stops before its job finishes: the attempt it gives back is not
        counted (the job did not fail), and a listening runner is told at once instead of
        waiting for the lease to expire. A holder that started no attempt (it was failing an
        exhausted job) only ends its lease, so the next worker fails the job in its place.
        Any later write of this holder fails: its handler's next checkpoint raises
        `JobInterrupted`.
        """
        now = self._clock()
        if not attempt_started:
            return self.update(notify=True, locked_until=now, updated_at=now)
        return self.update(
            notify=True,
            status=JobStatus.QUEUED,
            attempts=self.attempt - 1,
            locked_by=None,
            locked_until=None,
            run_after=now,
            updated_at=now,
        )


class Heartbeat:
    """Extends the lease every third of its length while a job runs."""

    def __init__(self, owner: Ownership, lease: timedelta) -> None:
        self._owner = owner
        self._lease = lease
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"job-heartbeat-{owner.job_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self._lease.total_seconds() / 3):
            try:
                if not self._owner.extend(self._lease):
                    logger.warning("job %s: lease lost; stopping its heartbeat", self._owner.job_id)
                    return
            except Exception:
                # A database blip: keep trying; the lease is three beats long.
                logger.exception("job %s: heartbeat failed", self._owner.job_id)


class Claimer:
    """Hands due jobs to workers, each row to one worker at a time, under a lease.

    Due means queued with `run_after` passed, or running with its lease expired (its worker
    died); taking over an expired job whose attempts are used up only lets it fail.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        postgres: bool,
        clock: Clock,
        lease: timedelta,
        max_attempts: int,
    ) -> None:
        self._sessions = sessions
        self._postgres = postgres
        self._clock = clock
        self._lease = lease
        self._max_attempts = max_attempts

    def _claimable(self, now: datetime) -> ColumnElement[bool]:
        return or_(
            and_(Job.status == JobStatus.QUEUED, Job.run_after <= now),
            and_(Job.status == JobStatus.RUNNING, Job.locked_until < now),
        )

    def claim(self, worker: str) -> Claim | None:
        """The next due job, now running under `worker`'s lease; None when none is due."""
        return self._claim_postgres(worker) if self._postgres else self._claim_sqlite(worker)

    def _claim_postgres(self, worker: str) -> Claim | None:
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.scalars(
                select(Job)
                .where(self._claimable(now))
                .order_by(Job.run_after, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if row is None:
                return None
            claim = self._claim_of(row, worker, now)
            row.status = JobStatus.RUNNING
            row.attempts = claim.attempt
            row.locked_by = worker
            row.locked_until = now + self._lease
            row.updated_at = now
            return claim

    def _claim_sqlite(self, worker: str) -> Claim | None:
        # SQLite has no row locks; one process's threads race through an optimistic update
        # that only succeeds if the row is still as read. Losers pick the next candidate.
        for _ in range(10):
            now = self._clock()
            with self._sessions.begin() as session:
                row = session.scalars(
                    select(Job).where(self._claimable(now)).order_by(Job.run_after, Job.id).limit(1)
                ).one_or_none()
                if row is None:
                    return None
                claim = self._claim_of(row, worker, now)
                result = session.execute(
                    update(Job)
                    .where(
                        Job.id == row.id,
                        Job.status == row.status,
                        Job.attempts == row.attempts,
                        self._claimable(now),
                    )
                    .values(
                        status=JobStatus.RUNNING,
                        attempts=claim.attempt,
                        locked_by=worker,
                        locked_until=now + self._lease,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if rowcount(result) == 1:
                    return claim
        return None

    def _claim_of(self, row: Job, worker: str, now: datetime) -> Claim:
        max_attempts = row.max_attempts or self._max_attempts
        exhausted = row.status == JobStatus.RUNNING and row.attempts >= max_attempts
        if row.status == JobStatus.RUNNING:
            logger.warning(
                "job %s: lease of %s expired; %s takes it over", row.id, row.locked_by, worker
            )
        return Claim(
            id=row.id,
            kind=row.kind,
            payload=dict(row.payload),
            state=dict(row.state),
            # An exhausted job keeps its count: the failure path does not start an attempt.
            attempt=row.attempts if exhausted else row.attempts + 1,
            max_attempts=max_attempts,
            exhausted=exhausted,
        )
