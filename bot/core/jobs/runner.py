"""Running jobs: worker threads, handlers, retries with backoff, failure (leases: `lease`)."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from bot.core.db import SessionFactory, is_postgres, utcnow
from bot.core.errors import PlatformError
from bot.core.jobs.lease import Claimer, Heartbeat, Ownership
from bot.core.jobs.model import (
    LAST_ERROR_LIMIT,
    Backoff,
    Clock,
    JobInterrupted,
    JobStatus,
    PermanentJobError,
)

# One logger for the whole package: operators filter on "bot.core.jobs".
logger = logging.getLogger("bot.core.jobs")


class JobContext:
    """What a handler sees of its job: the inputs, the attempt and the resumable state."""

    def __init__(
        self,
        *,
        job_id: int,
        kind: str,
        payload: dict[str, Any],
        attempt: int,
        max_attempts: int,
        state: dict[str, Any],
        owner: Ownership,
    ) -> None:
        self.job_id = job_id
        self.kind = kind
        self.payload = payload
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.state = dict(state)
        # Decided from the row as loaded: a handler that checkpoints during this attempt is
        # not "resuming" the steps it just did.
        self.is_resume = attempt > 1 or bool(state)
        self._owner = owner

    def checkpoint(self, **updates: Any) -> None:
        """Merge `updates` into `state` and commit it now, so a restart resumes after this step.

        Values must be JSON-serialisable and never secrets. Raises `JobInterrupted` when the
        job was cancelled or another worker took it over.
        """
        state = {**self.state, **updates}
        if not self._owner.save_state(state):
            raise JobInterrupted(f"job {self.job_id} is no longer held by this worker")
        self.state = state


class JobHandler(Protocol):
    """Does the work of one job kind. Both methods may be called again after a crash."""

    def run(self, ctx: JobContext) -> None:
        """Do the work; raise PermanentJobError to fail without retrying."""

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        """Roll back and tell the user; called once the job has failed for good."""


def exponential_backoff(attempt: int, *, base: float = 2.0, cap: float = 300.0) -> timedelta:
    """Delay before retrying after `attempt` failed: doubling from `base`, capped, jittered."""
    delay = min(cap, base * 2 ** (attempt - 1))
    # Half fixed, half random ("equal jitter"): retries of jobs that failed together (a
    # provider outage) spread out instead of hitting the provider again in one burst.
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    """Claims and runs jobs on `workers` threads in this process."""

    def __init__(
        self,
        sessions: SessionFactory,
        engine: Engine,
        *,
        handlers: Mapping[str, JobHandler] | None = None,
        workers: int = 2,
        poll_interval: float = 1.0,
        lease_seconds: float = 60.0,
        max_attempts: int = 5,
        worker_id: str | None = None,
        clock: Clock = utcnow,
        backoff: Backoff = exponential_backoff,
        wakeup: threading.Event | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._sessions = sessions
        self._handlers: dict[str, JobHandler] = dict(handlers or {})
        self._workers = workers
        self._poll_interval = poll_interval
        self._lease = timedelta(seconds=lease_seconds)
        self._claimer = Claimer(
            sessions,
            postgres=is_postgres(engine),
            clock=clock,
            lease=self._lease,
            max_attempts=max_attempts,
        )
        self.worker_id = worker_id or default_worker_id()
        self._clock = clock
        self._backoff = backoff
        self._wakeup = wakeup or threading.Event()
        self._on_outcome = on_outcome
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # The job each worker thread holds now, and whether it started an attempt of it;
        # what `stop` gives back when a job outlives the grace period.
        self._holding: dict[str, tuple[Ownership, bool]] = {}
        self._holding_lock = threading.Lock()

    def register(self, kind: str, handler: JobHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        self._handlers[kind] = handler

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the job runner is already started")
        self._stopping.clear()
        for n in range(1, self._workers + 1):
            thread = threading.Thread(
                target=self._work, args=(f"{self.worker_id}:{n}",), name=f"job-worker-{n}"
            )
            # Daemon threads: a stop that times out leaves the job to lease expiry instead of
            # keeping the process alive.
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> bool:
        """Let each worker finish its current job; True if all stopped within `timeout`.

        A job still running after `timeout` is released: queued again at once with its
        checkpointed state and the attempt not counted, for another worker to resume (this
        process's handler can no longer write to it).
        """
        self._stopping.set()
        self._wakeup.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stopped = not any(thread.is_alive() for thread in self._threads)
        self._threads = []
        if not stopped:
            self._release_unfinished()
        return stopped

    @property
    def is_running(self) -> bool:
        """Whether worker threads run jobs in this process now; for readiness and tests."""
        return bool(self._threads) and not self._stopping.is_set()

    def _release_unfinished(self) -> None:
        with self._holding_lock:
            holding = list(self._holding.values())
        for owner, attempt_started in holding:
            try:
                if owner.release(attempt_started=attempt_started):
                    logger.warning(
                        "job %s: still running at shutdown; released for another worker",
                        owner.job_id,
                    )
            except Exception:
                # Its lease runs out on its own; another worker takes the job over then.
                logger.exception("job %s: releasing it at shutdown failed", owner.job_id)

    def run_once(self) -> bool:
        """Claim and run one due job in the calling thread; False when none was due.

        For tests and benchmarks that drive jobs one at a time; the bot runs `start()`.
        """
        return self._run_one(f"{self.worker_id}:0")

    def _work(self, worker: str) -> None:
        while not self._stopping.is_set():
            try:
                ran = self._run_one(worker)
            except Exception:
                # The database is unreachable or a write failed; the claimed job (if any)
                # comes back after its lease, so wait a poll and carry on.
                logger.exception("job worker %s: claiming or recording a job failed", worker)
                ran = False
            if not ran and not self._stopping.is_set():
                self._wakeup.wait(self._poll_interval)
                self._wakeup.clear()

    def _run_one(self, worker: str) -> bool:
        claim = self._claimer.claim(worker)
        if claim is None:
            return False
        owner = Ownership(self._sessions, self._clock, claim.id, worker, claim.attempt)
        handler = self._handlers.get(claim.kind)
        if handler is None:
            message = f"no handler is registered for job kind {claim.kind!r}"
            logger.error("job %s: %s", claim.id, message)
            owner.finish(JobStatus.FAILED, message)
            self._report(claim.kind, JobStatus.FAILED)
            return True
        ctx = JobContext(
            job_id=claim.id,
            kind=claim.kind,
            payload=claim.payload,
            attempt=claim.attempt,
            max_attempts=claim.max_attempts,
            state=claim.state,
            owner=owner,
        )
        with self._holding_lock:
            self._holding[worker] = (owner, not claim.exhausted)
        try:
            self._run_claimed(handler, ctx, owner, exhausted=claim.exhausted)
        finally:
            with self._holding_lock:
                self._holding.pop(worker, None)
        return True

    def _run_claimed(
        self, handler: JobHandler, ctx: JobContext, owner: Ownership, *, exhausted: bool
    ) -> None:
        with Heartbeat(owner, self._lease):
            if exhausted:
                message = (
                    f"gave up after {ctx.attempt} attempt(s): "
                    "the worker running the job stopped before it finished"
                )
                self._fail(handler, ctx, owner, message)
            else:
                self._execute(handler, ctx, owner)

    def _execute(self, handler: JobHandler, ctx: JobContext, owner: Ownership) -> None:
        try:
            handler.run(ctx)
        except JobInterrupted:
            logger.info("job %s: cancelled or taken over; stopping this run", ctx.job_id)
        except PermanentJobError as exc:
            logger.warning("job %s (%s) failed: %s", ctx.job_id, ctx.kind, exc.message)
            self._fail(handler, ctx, owner, _safe_message(exc, ctx.job_id))
        except Exception as exc:
            logger.exception(
                "job %s (%s) attempt %d/%d raised",
                ctx.job_id,
                ctx.kind,
                ctx.attempt,
                ctx.max_attempts,
            )
            message = _safe_message(exc, ctx.job_id)
            if ctx.attempt < ctx.max_attempts:
                run_after = self._clock() + self._backoff(ctx.attempt)
                if owner.requeue(run_after, message):
                    self._report(ctx.kind, "retrying")
            else:
                self._fail(handler, ctx, owner, message)
        else:
            if owner.finish(JobStatus.SUCCEEDED):
                self._report(ctx.kind, JobStatus.SUCCEEDED)
            else:
                logger.warning("job %s finished after it was cancelled or taken over", ctx.job_id)

    def _fail(self, handler: JobHandler, ctx: JobContext, owner: Ownership, message: str) -> None:
        # on_failure runs while the row is still ours and `running`; the row turns `failed`
        # only afterwards, so a crash in between makes the next worker call it again rather
        # than never.
        try:
            handler.on_failure(ctx, message)
        except Exception:
            logger.exception("job %s (%s): on_failure raised", ctx.job_id, ctx.kind)
        if owner.finish(JobStatus.FAILED, message):
            self._report(ctx.kind, JobStatus.FAILED)

    def _report(self, kind: str, outcome: str) -> None:
        if self._on_outcome is None:
            return
        try:
            self._on_outcome(kind, str(outcome))
        except Exception:
            logger.exception("job outcome callback raised")


def _safe_message(exc: Exception, job_id: int) -> str:
    # PlatformError messages are written to be shown to users; anything else is a bug whose
    # text may carry internals, so only its type is kept (the traceback is in the log).
    if isinstance(exc, PlatformError):
        text = exc.message
    else:
        text = f"unexpected {type(exc).__name__} (see the logs for job {job_id})"
    if len(text) > LAST_ERROR_LIMIT:
        text = text[: LAST_ERROR_LIMIT - 1] + "…"
    return text
