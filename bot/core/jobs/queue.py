"""Enqueueing, reading and pruning jobs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory, insert_ignore, rowcount, utcnow
from bot.core.jobs.model import (
    FINISHED,
    KEY_LIMIT,
    KIND_LIMIT,
    Clock,
    Job,
    JobInfo,
    JobRef,
    JobStatus,
)
from bot.core.jobs.notify import notify_new_job

# One logger for the whole package: operators filter on "bot.core.jobs".
logger = logging.getLogger("bot.core.jobs")


class JobQueue:
    """Enqueue and inspect jobs; the producer side, used by features and the admin surface."""

    def __init__(self, sessions: SessionFactory, *, clock: Clock = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock
        # Set after an enqueue commits; pass it to the local JobRunner so a new job starts
        # now rather than at the runner's next poll.
        self.wakeup = threading.Event()

    def enqueue(
        self,
        *,
        kind: str,
        payload: dict[str, Any],
        idempotency_key: str,
        max_attempts: int | None = None,
        run_after: datetime | None = None,
        session: Session | None = None,
    ) -> JobRef:
        """Queue a job once per key; pass `session` to commit it with the caller's own rows."""
        if not idempotency_key or len(idempotency_key) > KEY_LIMIT:
            raise ValueError(f"idempotency_key must be 1..{KEY_LIMIT} characters")
        if not kind or len(kind) > KIND_LIMIT:
            raise ValueError(f"kind must be 1..{KIND_LIMIT} characters")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if session is not None:
            ref = self._insert(session, kind, payload, idempotency_key, max_attempts, run_after)
            # Runners cannot see the row before the caller commits, so wake them then.
            _on_commit(session, self.wakeup.set)
            return ref
        with self._sessions.begin() as own:
            ref = self._insert(own, kind, payload, idempotency_key, max_attempts, run_after)
        if ref.created:
            self.wakeup.set()
        return ref

    def _insert(
        self,
        session: Session,
        kind: str,
        payload: dict[str, Any],
        idempotency_key: str,
        max_attempts: int | None,
        run_after: datetime | None,
    ) -> JobRef:
        now = self._clock()
        values = {
            "kind": kind,
            "idempotency_key": idempotency_key,
            "payload": payload,
            "state": {},
            "status": JobStatus.QUEUED,
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_after": run_after or now,
            "created_at": now,
            "updated_at": now,
        }
        # A concurrent insert of the same key makes this statement wait for that
        # transaction, so the SELECT below sees its row.
        insert = insert_ignore(session, Job, conflict=["idempotency_key"]).values(values)
        new_id = session.execute(insert.returning(Job.id)).scalar_one_or_none()
        if new_id is not None:
            notify_new_job(session)
            return JobRef(id=new_id, kind=kind, status=JobStatus.QUEUED, created=True)
        existing = session.execute(
            select(Job.id, Job.kind, Job.status).where(Job.idempotency_key == idempotency_key)
        ).one()
        if existing.kind != kind:
            raise ValueError(
                f"idempotency key {idempotency_key!r} already belongs to a {existing.kind!r} job"
            )
        return JobRef(id=existing.id, kind=kind, status=JobStatus(existing.status), created=False)

    def get(self, job_id: int) -> JobInfo | None:
        with self._sessions() as session:
            row = session.get(Job, job_id)
            return JobInfo.of(row) if row is not None else None

    def get_by_key(self, idempotency_key: str) -> JobInfo | None:
        """The job enqueued under a key; for tests and tooling that know a job by its key."""
        with self._sessions() as session:
            row = session.scalars(
                select(Job).where(Job.idempotency_key == idempotency_key)
            ).one_or_none()
            return JobInfo.of(row) if row is not None else None

    def by_keys(self, idempotency_keys: Collection[str]) -> dict[str, JobInfo]:
        """The jobs enqueued under these keys, by key, in one query (missing keys are absent)."""
        if not idempotency_keys:
            return {}
        with self._sessions() as session:
            rows = session.scalars(select(Job).where(Job.idempotency_key.in_(idempotency_keys)))
            return {row.idempotency_key: JobInfo.of(row) for row in rows}

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued or running job; False when it had already finished (or is unknown).

        A running handler is not interrupted mid-step: its next checkpoint raises
        `JobInterrupted`, and whatever it returns afterwards is not recorded.
        """
        now = self._clock()
        with self._sessions.begin() as session:
            result = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
                .values(
                    status=JobStatus.CANCELLED,
                    locked_by=None,
                    locked_until=None,
                    finished_at=now,
                    updated_at=now,
                )
            )
            return rowcount(result) == 1

    def cancel_unstarted(self, idempotency_key: str, *, session: Session) -> bool:
        """Cancel the job queued under `idempotency_key` if no attempt of it has started;
        False when it is running, has run, or does not exist.

        In the caller's transaction, so the job and the caller's own rows change together;
        a runner claiming the job at the same moment either wins (and this is False) or
        finds it cancelled.
        """
        now = self._clock()
        result = session.execute(
            update(Job)
            .where(
                Job.idempotency_key == idempotency_key,
                Job.status == JobStatus.QUEUED,
                Job.attempts == 0,
            )
            .values(status=JobStatus.CANCELLED, finished_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    def counts_by_status(self) -> dict[str, int]:
        """Number of jobs in each status, every status present (a gauge per status)."""
        counts = {status.value: 0 for status in JobStatus}
        with self._sessions() as session:
            for status, count in session.execute(
                select(Job.status, func.count()).group_by(Job.status)
            ):
                counts[JobStatus(status).value] = count
        return counts

    def prune_finished(self, older_than: timedelta) -> int:
        """Delete jobs that finished more than `older_than` ago; returns how many."""
        cutoff = self._clock() - older_than
        with self._sessions.begin() as session:
            result = session.execute(
                delete(Job).where(Job.status.in_(FINISHED), Job.finished_at < cutoff)
            )
            return rowcount(result)


def _on_commit(session: Session, callback: Callable[[], None]) -> None:
    event.listen(session, "after_commit", lambda _session: callback(), once=True)
