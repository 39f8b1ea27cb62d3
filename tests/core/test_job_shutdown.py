"""A runner that stops: jobs finish within the grace period, or go back to the queue whole."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.core.db import SessionFactory
from bot.core.jobs import JobContext, JobInterrupted, JobQueue, JobRunner, JobStatus
from tests.core.polling import wait_until

KIND = "resize-disk"


class Steps:
    """Checkpoints step 1, waits for `go`, then checkpoints step 2; records what it saw."""

    def __init__(self, *, wait: bool) -> None:
        self.go = threading.Event()
        if not wait:
            self.go.set()
        self.seen: list[tuple[int, bool, dict[str, Any]]] = []
        self.interrupted = threading.Event()

    def run(self, ctx: JobContext) -> None:
        self.seen.append((ctx.attempt, ctx.is_resume, dict(ctx.state)))
        if "step" not in ctx.state:
            ctx.checkpoint(step=1)
        self.go.wait(30)
        try:
            ctx.checkpoint(step=2)
        except JobInterrupted:
            self.interrupted.set()
            raise

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        raise AssertionError(error_message)


@pytest.fixture
def runners(sessions: SessionFactory, engine: Engine) -> Iterator[Callable[..., JobRunner]]:
    made: list[JobRunner] = []

    def make(handler: Steps, name: str) -> JobRunner:
        runner = JobRunner(
            sessions,
            engine,
            handlers={KIND: handler},
            workers=1,
            poll_interval=0.05,
            worker_id=name,
            clock=lambda: datetime.now(UTC),
        )
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.stop(timeout=5)


def test_a_job_that_outlives_the_grace_period_is_given_back_and_resumed_once(
    sessions: SessionFactory, runners: Callable[..., JobRunner]
) -> None:
    queue = JobQueue(sessions)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="resize-1", max_attempts=1)
    stuck = Steps(wait=True)
    first = runners(stuck, "worker-a")
    first.start()
    assert wait_until(lambda: _job(queue, ref.id).state == {"step": 1})

    assert first.stop(timeout=0.2) is False  # the job did not finish in time

    job = _job(queue, ref.id)
    # Queued again with its checkpoint, and the attempt it was on not counted: with
    # max_attempts=1 a counted attempt would leave none for the resume.
    assert (job.status, job.attempts, job.state) == (JobStatus.QUEUED, 0, {"step": 1})
    # The stopped runner's handler can no longer write to the job it gave back.
    stuck.go.set()
    assert stuck.interrupted.wait(5)
    assert _job(queue, ref.id).state == {"step": 1}

    resumed = Steps(wait=False)
    assert runners(resumed, "worker-b").run_once() is True

    job = _job(queue, ref.id)
    assert (job.status, job.attempts, job.state) == (JobStatus.SUCCEEDED, 1, {"step": 2})
    assert resumed.seen == [(1, True, {"step": 1})]  # resumed after step 1, exactly once
    assert stuck.seen == [(1, False, {})]


def test_a_job_that_finishes_within_the_grace_period_is_not_given_back(
    sessions: SessionFactory, runners: Callable[..., JobRunner]
) -> None:
    queue = JobQueue(sessions)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="resize-2")
    handler = Steps(wait=True)
    runner = runners(handler, "worker-a")
    runner.start()
    assert wait_until(lambda: _job(queue, ref.id).state == {"step": 1})
    threading.Timer(0.3, handler.go.set).start()  # finishes while the runner is stopping

    assert runner.stop(timeout=10) is True

    job = _job(queue, ref.id)
    assert (job.status, job.attempts, job.state) == (JobStatus.SUCCEEDED, 1, {"step": 2})
    assert not handler.interrupted.is_set()


def _job(queue: JobQueue, job_id: int) -> Any:
    job = queue.get(job_id)
    assert job is not None
    return job
