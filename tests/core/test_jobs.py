"""Durable jobs: one row per key, retried with backoff, failed once, resumed after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update

from bot.core.db import SessionFactory, make_engine, make_session_factory
from bot.core.errors import Unavailable
from bot.core.jobs import (
    LAST_ERROR_LIMIT,
    Job,
    JobContext,
    JobInterrupted,
    JobQueue,
    JobRunner,
    JobStatus,
    PermanentJobError,
    exponential_backoff,
)
from tests.clock import Clock
from tests.conftest import REPO_ROOT
from tests.core import job_worker_process
from tests.core.polling import wait_until

KIND = "provision-db"
BACKOFF = timedelta(seconds=10)


class RecordingHandler:
    """Runs `work` (if any) and records every run and failure notice it gets."""

    def __init__(self, work: Callable[[JobContext], None] | None = None) -> None:
        self.work = work
        self.runs: list[tuple[int, int, dict[str, Any]]] = []
        self.failures: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def run(self, ctx: JobContext) -> None:
        with self._lock:
            self.runs.append((ctx.job_id, ctx.attempt, dict(ctx.state)))
        if self.work is not None:
            self.work(ctx)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        with self._lock:
            self.failures.append((ctx.job_id, error_message))


def always(exc: Exception) -> Callable[[JobContext], None]:
    def work(ctx: JobContext) -> None:
        raise exc

    return work


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def queue(sessions: SessionFactory, clock: Clock) -> JobQueue:
    return JobQueue(sessions, clock=clock)


@pytest.fixture
def make_runner(
    sessions: SessionFactory, engine: Engine, clock: Clock
) -> Iterator[Callable[..., JobRunner]]:
    runners: list[JobRunner] = []

    def make(handler: RecordingHandler | None = None, **options: Any) -> JobRunner:
        options.setdefault("clock", clock)
        options.setdefault("backoff", lambda attempt: BACKOFF)
        options.setdefault("max_attempts", 3)
        runner = JobRunner(
            options.pop("sessions", sessions),
            options.pop("engine", engine),
            handlers={KIND: handler} if handler is not None else {},
            **options,
        )
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.stop(timeout=5)


def test_enqueue_returns_the_existing_job_for_a_repeated_key(queue: JobQueue) -> None:
    first = queue.enqueue(kind=KIND, payload={"name": "orders"}, idempotency_key="req-1")
    again = queue.enqueue(kind=KIND, payload={"name": "other"}, idempotency_key="req-1")

    assert first.created and not again.created
    assert again.id == first.id
    job = queue.get_by_key("req-1")
    assert job is not None and job.payload == {"name": "orders"}
    assert queue.counts_by_status()["queued"] == 1


def test_a_key_belongs_to_one_kind(queue: JobQueue) -> None:
    queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    with pytest.raises(ValueError, match="already belongs"):
        queue.enqueue(kind="teardown-env", payload={}, idempotency_key="req-1")


def test_concurrent_enqueues_of_one_key_make_one_row(queue: JobQueue) -> None:
    threads = 8
    barrier = threading.Barrier(threads)
    refs = []
    errors: list[BaseException] = []

    def enqueue() -> None:
        barrier.wait()
        try:
            refs.append(queue.enqueue(kind=KIND, payload={}, idempotency_key="double-click"))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=enqueue) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert len({ref.id for ref in refs}) == 1
    assert [ref.created for ref in refs].count(True) == 1
    assert sum(queue.counts_by_status().values()) == 1


def test_enqueue_in_the_callers_session_commits_with_it(
    queue: JobQueue, sessions: SessionFactory
) -> None:
    with sessions() as session:
        queue.enqueue(kind=KIND, payload={}, idempotency_key="rolled-back", session=session)
        session.rollback()
    assert queue.get_by_key("rolled-back") is None
    assert not queue.wakeup.is_set()

    with sessions.begin() as session:
        ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="kept", session=session)
        assert not queue.wakeup.is_set()
    assert queue.wakeup.is_set()
    assert queue.get(ref.id) is not None


def test_a_due_job_runs_once_and_succeeds(
    queue: JobQueue, make_runner: Callable[..., JobRunner]
) -> None:
    outcomes: list[tuple[str, str]] = []
    handler = RecordingHandler()
    runner = make_runner(handler, on_outcome=lambda kind, outcome: outcomes.append((kind, outcome)))
    ref = queue.enqueue(kind=KIND, payload={"name": "orders"}, idempotency_key="req-1")

    assert runner.run_once() is True
    assert runner.run_once() is False

    job = queue.get(ref.id)
    assert job is not None
    assert job.status == JobStatus.SUCCEEDED
    assert (job.attempts, job.finished_at, job.last_error) == (1, job.updated_at, None)
    assert handler.runs == [(ref.id, 1, {})]
    assert outcomes == [(KIND, "succeeded")]


def test_a_job_waits_for_its_run_after(
    queue: JobQueue, clock: Clock, make_runner: Callable[..., JobRunner]
) -> None:
    handler = RecordingHandler()
    runner = make_runner(handler)
    queue.enqueue(
        kind=KIND, payload={}, idempotency_key="later", run_after=clock() + timedelta(minutes=5)
    )

    assert runner.run_once() is False
    clock.advance(timedelta(minutes=5))
    assert runner.run_once() is True
    assert len(handler.runs) == 1


def test_a_failed_attempt_is_retried_after_the_backoff(
    queue: JobQueue, clock: Clock, make_runner: Callable[..., JobRunner]
) -> None:
    def fail_first_attempt(ctx: JobContext) -> None:
        if ctx.attempt == 1:
            raise RuntimeError("connection to postgres://admin:hunter2@db failed")

    handler = RecordingHandler(fail_first_attempt)
    outcomes: list[str] = []
    runner = make_runner(handler, on_outcome=lambda kind, outcome: outcomes.append(outcome))
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    assert runner.run_once() is True
    job = queue.get(ref.id)
    assert job is not None
    assert job.status == JobStatus.QUEUED
    assert job.run_after == clock() + BACKOFF
    # An unexpected error's text may carry internals; only its type is kept.
    assert job.last_error == f"unexpected RuntimeError (see the logs for job {ref.id})"

    clock.advance(BACKOFF - timedelta(seconds=1))
    assert runner.run_once() is False
    clock.advance(timedelta(seconds=1))
    assert runner.run_once() is True

    job = queue.get(ref.id)
    assert job is not None
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert [attempt for _, attempt, _ in handler.runs] == [1, 2]
    assert handler.failures == []
    assert outcomes == ["retrying", "succeeded"]


def test_a_permanent_error_fails_at_once_and_tells_the_handler(
    queue: JobQueue, make_runner: Callable[..., JobRunner]
) -> None:
    handler = RecordingHandler(always(PermanentJobError("the database name orders is taken")))
    runner = make_runner(handler)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    assert runner.run_once() is True
    assert runner.run_once() is False

    job = queue.get(ref.id)
    assert job is not None
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.last_error == "the database name orders is taken"
    assert handler.failures == [(ref.id, "the database name orders is taken")]


def test_using_the_last_attempt_fails_the_job_and_calls_on_failure_once(
    queue: JobQueue, clock: Clock, make_runner: Callable[..., JobRunner]
) -> None:
    handler = RecordingHandler(always(Unavailable("the Postgres provider is down")))
    outcomes: list[str] = []
    runner = make_runner(handler, on_outcome=lambda kind, outcome: outcomes.append(outcome))
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1", max_attempts=2)

    for _ in range(4):
        runner.run_once()
        clock.advance(BACKOFF)

    job = queue.get(ref.id)
    assert job is not None
    assert (job.status, job.attempts) == (JobStatus.FAILED, 2)
    assert job.last_error == "the Postgres provider is down"
    assert len(handler.runs) == 2
    assert handler.failures == [(ref.id, "the Postgres provider is down")]
    assert outcomes == ["retrying", "failed"]


def test_the_runners_max_attempts_applies_to_jobs_without_their_own(
    queue: JobQueue, clock: Clock, make_runner: Callable[..., JobRunner]
) -> None:
    handler = RecordingHandler(always(Unavailable("down")))
    runner = make_runner(handler, max_attempts=3)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    while runner.run_once():
        clock.advance(BACKOFF)

    job = queue.get(ref.id)
    assert job is not None
    assert (job.status, job.attempts, job.max_attempts) == (JobStatus.FAILED, 3, None)
    assert len(handler.failures) == 1


def test_a_retry_resumes_from_the_last_checkpoint(
    queue: JobQueue, clock: Clock, make_runner: Callable[..., JobRunner]
) -> None:
    resumed: list[bool] = []

    def two_steps(ctx: JobContext) -> None:
        resumed.append(ctx.is_resume)
        if "database" not in ctx.state:
            ctx.checkpoint(database="created")
            raise Unavailable("vault is down")
        ctx.checkpoint(credentials="stored")

    handler = RecordingHandler(two_steps)
    runner = make_runner(handler)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    runner.run_once()
    job = queue.get(ref.id)
    assert job is not None and job.state == {"database": "created"}

    clock.advance(BACKOFF)
    runner.run_once()

    job = queue.get(ref.id)
    assert job is not None
    assert job.status == JobStatus.SUCCEEDED
    assert job.state == {"database": "created", "credentials": "stored"}
    assert [state for _, _, state in handler.runs] == [{}, {"database": "created"}]
    assert resumed == [False, True]


def test_a_job_of_an_unknown_kind_fails_with_a_clear_error(
    queue: JobQueue, make_runner: Callable[..., JobRunner]
) -> None:
    runner = make_runner(RecordingHandler())
    ref = queue.enqueue(kind="retired-feature", payload={}, idempotency_key="req-1")

    assert runner.run_once() is True

    job = queue.get(ref.id)
    assert job is not None
    assert job.status == JobStatus.FAILED
    assert job.last_error == "no handler is registered for job kind 'retired-feature'"


def test_last_error_is_kept_short(queue: JobQueue, make_runner: Callable[..., JobRunner]) -> None:
    runner = make_runner(RecordingHandler(always(PermanentJobError("x" * 2000))))
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    runner.run_once()

    job = queue.get(ref.id)
    assert job is not None and job.last_error is not None
    assert len(job.last_error) == LAST_ERROR_LIMIT
    assert job.last_error.endswith("…")


def test_a_cancelled_job_does_not_run(
    queue: JobQueue, make_runner: Callable[..., JobRunner]
) -> None:
    handler = RecordingHandler()
    runner = make_runner(handler)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    assert queue.cancel(ref.id) is True
    assert queue.cancel(ref.id) is False
    assert runner.run_once() is False

    job = queue.get(ref.id)
    assert job is not None and job.status == JobStatus.CANCELLED
    assert handler.runs == []


def test_only_a_job_no_attempt_has_started_is_cancelled_unstarted(
    queue: JobQueue, sessions: SessionFactory, make_runner: Callable[..., JobRunner]
) -> None:
    handler = RecordingHandler(always(Unavailable("try again")))
    runner = make_runner(handler)
    waiting = queue.enqueue(kind=KIND, payload={}, idempotency_key="waiting")
    with sessions.begin() as session:
        assert queue.cancel_unstarted("waiting", session=session) is True
        assert queue.cancel_unstarted("waiting", session=session) is False  # already
        assert queue.cancel_unstarted("nobody", session=session) is False
    job = queue.get(waiting.id)
    assert job is not None and job.status == JobStatus.CANCELLED

    tried = queue.enqueue(kind=KIND, payload={}, idempotency_key="tried")
    assert runner.run_once() is True  # one attempt, then queued again for a retry
    assert queue.by_keys(["tried", "waiting", "nobody"]).keys() == {"tried", "waiting"}
    retry = queue.get(tried.id)
    assert retry is not None and (retry.status, retry.attempts) == (JobStatus.QUEUED, 1)
    with sessions.begin() as session:
        assert queue.cancel_unstarted("tried", session=session) is False


def test_cancelling_a_running_job_stops_it_at_its_next_checkpoint(
    queue: JobQueue, make_runner: Callable[..., JobRunner]
) -> None:
    interrupted: list[bool] = []

    def cancelled_midway(ctx: JobContext) -> None:
        ctx.checkpoint(step=1)
        assert queue.cancel(ctx.job_id)
        try:
            ctx.checkpoint(step=2)
        except JobInterrupted:
            interrupted.append(True)
            raise

    handler = RecordingHandler(cancelled_midway)
    runner = make_runner(handler)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    assert runner.run_once() is True

    job = queue.get(ref.id)
    assert job is not None
    assert (job.status, job.state) == (JobStatus.CANCELLED, {"step": 1})
    assert interrupted == [True]
    assert handler.failures == []


def _run_in_thread(runner: JobRunner) -> threading.Thread:
    thread = threading.Thread(target=runner.run_once)
    thread.start()
    return thread


def test_an_expired_lease_is_taken_over_and_the_old_worker_cannot_write(
    sessions: SessionFactory, make_runner: Callable[..., JobRunner]
) -> None:
    queue = JobQueue(sessions)
    started, release = threading.Event(), threading.Event()
    late_checkpoint: list[str] = []

    def stuck_after_step_one(ctx: JobContext) -> None:
        ctx.checkpoint(step=1)
        started.set()
        release.wait(10)
        try:
            ctx.checkpoint(step="late")
        except JobInterrupted:
            late_checkpoint.append("interrupted")
            raise

    stuck = RecordingHandler(stuck_after_step_one)
    old = make_runner(stuck, clock=lambda: datetime.now(UTC), lease_seconds=30)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")
    old_worker = _run_in_thread(old)
    assert started.wait(5)

    # A runner whose clock is past the lease sees the job as abandoned.
    resumed = RecordingHandler(lambda ctx: ctx.checkpoint(step=2))
    new = make_runner(resumed, clock=lambda: datetime.now(UTC) + timedelta(seconds=31))
    assert new.run_once() is True
    release.set()
    old_worker.join(10)

    job = queue.get(ref.id)
    assert job is not None
    assert (job.status, job.attempts, job.state) == (JobStatus.SUCCEEDED, 2, {"step": 2})
    assert resumed.runs == [(ref.id, 2, {"step": 1})]
    assert late_checkpoint == ["interrupted"]


def test_an_expired_lease_on_the_last_attempt_fails_the_job(
    sessions: SessionFactory, make_runner: Callable[..., JobRunner]
) -> None:
    queue = JobQueue(sessions)
    started, release = threading.Event(), threading.Event()

    def hang(ctx: JobContext) -> None:
        started.set()
        release.wait(10)

    old = make_runner(RecordingHandler(hang), clock=lambda: datetime.now(UTC), lease_seconds=30)
    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1", max_attempts=1)
    old_worker = _run_in_thread(old)
    assert started.wait(5)

    handler = RecordingHandler()
    new = make_runner(handler, clock=lambda: datetime.now(UTC) + timedelta(seconds=31))
    assert new.run_once() is True
    assert new.run_once() is False
    release.set()
    old_worker.join(10)

    job = queue.get(ref.id)
    assert job is not None
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert handler.runs == []
    assert handler.failures == [(ref.id, job.last_error)]
    assert job.last_error is not None and "stopped before it finished" in job.last_error


def test_started_runner_picks_up_a_new_job_without_waiting_a_poll(
    sessions: SessionFactory, make_runner: Callable[..., JobRunner]
) -> None:
    queue = JobQueue(sessions)
    done = threading.Event()
    runner = make_runner(
        RecordingHandler(lambda ctx: done.set()),
        clock=lambda: datetime.now(UTC),
        workers=2,
        poll_interval=60,
        wakeup=queue.wakeup,
    )
    runner.start()
    # Both workers have found nothing and are waiting out their 60 s poll.
    assert wait_until(lambda: not queue.wakeup.is_set(), timeout=2)

    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="req-1")

    assert done.wait(5)
    assert runner.stop(timeout=5) is True
    job = queue.get(ref.id)
    assert job is not None and job.status == JobStatus.SUCCEEDED


def test_prune_finished_deletes_only_old_finished_jobs(
    queue: JobQueue, sessions: SessionFactory, clock: Clock
) -> None:
    old = queue.enqueue(kind=KIND, payload={}, idempotency_key="old")
    recent = queue.enqueue(kind=KIND, payload={}, idempotency_key="recent")
    waiting = queue.enqueue(kind=KIND, payload={}, idempotency_key="waiting")
    with sessions.begin() as session:
        session.execute(
            update(Job)
            .where(Job.id == old.id)
            .values(status=JobStatus.SUCCEEDED, finished_at=clock() - timedelta(days=31))
        )
        session.execute(
            update(Job)
            .where(Job.id == recent.id)
            .values(status=JobStatus.FAILED, finished_at=clock() - timedelta(days=29))
        )

    assert queue.prune_finished(timedelta(days=30)) == 1

    assert queue.get(old.id) is None
    assert queue.get(recent.id) is not None and queue.get(waiting.id) is not None
    assert queue.counts_by_status() == {
        "queued": 1,
        "running": 0,
        "succeeded": 0,
        "failed": 1,
        "cancelled": 0,
    }


def test_backoff_doubles_from_two_seconds_up_to_five_minutes() -> None:
    for attempt, full in [(1, 2), (2, 4), (3, 8), (20, 300)]:
        delays = [exponential_backoff(attempt).total_seconds() for _ in range(50)]
        assert all(full / 2 <= delay <= full for delay in delays)
        assert len(set(delays)) > 1  # jittered


@pytest.mark.postgres
def test_two_runners_on_postgres_run_every_job_exactly_once(
    pg_engine: Engine, postgres_url: str
) -> None:
    sessions = make_session_factory(pg_engine)
    queue = JobQueue(sessions)
    ids = [
        queue.enqueue(kind=KIND, payload={"n": n}, idempotency_key=f"job-{n}").id for n in range(50)
    ]
    ran: list[tuple[int, str]] = []
    lock = threading.Lock()

    def record(replica: str) -> Callable[[JobContext], None]:
        def work(ctx: JobContext) -> None:
            with lock:
                ran.append((ctx.job_id, replica))
            threading.Event().wait(0.01)

        return work

    other_engine = make_engine(postgres_url)
    runners = [
        JobRunner(
            make_session_factory(engine),
            engine,
            handlers={KIND: RecordingHandler(record(name))},
            workers=4,
            poll_interval=0.05,
            worker_id=name,
        )
        for name, engine in [("replica-a", pg_engine), ("replica-b", other_engine)]
    ]
    try:
        for runner in runners:
            runner.start()
        assert wait_until(lambda: queue.counts_by_status()["succeeded"] == 50, timeout=20)
    finally:
        for runner in runners:
            runner.stop(timeout=5)
        other_engine.dispose()

    assert sorted(job_id for job_id, _ in ran) == sorted(ids)
    assert {replica for _, replica in ran} == {"replica-a", "replica-b"}


@pytest.mark.slow
def test_a_killed_worker_process_is_resumed_from_its_checkpoint(
    engine: Engine, sessions: SessionFactory
) -> None:
    queue = JobQueue(sessions)
    ref = queue.enqueue(kind=job_worker_process.KIND, payload={}, idempotency_key="crash-1")
    url = engine.url.render_as_string(hide_password=False)

    with subprocess.Popen(
        [sys.executable, "-m", "tests.core.job_worker_process", url],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as worker:
        try:
            checkpointed = wait_until(
                lambda: (job := queue.get(ref.id)) is not None and job.state == {"step": 1},
                timeout=15,
            )
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            _, stderr = worker.communicate(timeout=10)
        assert checkpointed, stderr.decode()
    assert worker.returncode == -signal.SIGKILL
    job = queue.get(ref.id)
    assert job is not None and job.status == JobStatus.RUNNING

    def finish_from_step_one(ctx: JobContext) -> None:
        assert ctx.is_resume and ctx.state == {"step": 1}
        ctx.checkpoint(step=2)

    handler = RecordingHandler(finish_from_step_one)
    runner = JobRunner(sessions, engine, handlers={job_worker_process.KIND: handler})
    # The dead process's one-second lease has to run out before anyone may take the job.
    assert wait_until(runner.run_once, timeout=10, step=0.1)

    job = queue.get(ref.id)
    assert job is not None
    assert (job.status, job.attempts, job.state) == (JobStatus.SUCCEEDED, 2, {"step": 2})
    assert handler.runs == [(ref.id, 2, {"step": 1})]
