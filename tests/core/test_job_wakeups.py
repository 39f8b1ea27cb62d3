"""LISTEN/NOTIFY: a job committed in one process wakes the runners of the others at once.

Every runner here polls only once a minute, so a job that runs within seconds was picked up
because of the notification; the poll would have taken up to sixty.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from bot.core.db import make_engine, make_session_factory
from bot.core.jobs import JobContext, JobListener, JobQueue, JobRunner, JobStatus
from bot.core.jobs.notify import CHANNEL
from tests.core.polling import wait_until

pytestmark = pytest.mark.postgres

KIND = "wake-test"
A_MINUTE = 60.0


class Done:
    def __init__(self) -> None:
        self.event = threading.Event()

    def run(self, ctx: JobContext) -> None:
        self.event.set()

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        raise AssertionError(error_message)


@pytest.fixture
def other_engine(postgres_url: str, pg_engine: Engine) -> Iterator[Engine]:
    """A second engine on the same database: another process's pool, as far as it knows."""
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def idle_worker(pg_engine: Engine) -> Iterator[tuple[Done, JobRunner, JobListener]]:
    """A runner on `pg_engine` polling once a minute, its listener LISTENing, both idle."""
    wakeup = threading.Event()
    handler = Done()
    runner = JobRunner(
        make_session_factory(pg_engine),
        pg_engine,
        handlers={KIND: handler},
        workers=2,
        poll_interval=A_MINUTE,
        wakeup=wakeup,
    )
    listener = JobListener(pg_engine, wakeup, reconnect_delay=0.05)
    listener.start()
    runner.start()
    assert listener.wait_listening(10)
    # The listener's first wake-up has been taken: the runner waits out its minute now.
    assert wait_until(lambda: not wakeup.is_set(), timeout=5)
    yield handler, runner, listener
    runner.stop(timeout=5)
    listener.stop()


def test_a_job_enqueued_elsewhere_runs_long_before_the_next_poll(
    idle_worker: tuple[Done, JobRunner, JobListener], other_engine: Engine
) -> None:
    handler, _, _ = idle_worker
    queue = JobQueue(make_session_factory(other_engine))  # its own wake-up event, unshared

    ref = queue.enqueue(kind=KIND, payload={}, idempotency_key="wake-1")

    assert handler.event.wait(10), "the job waited for the runner's poll"
    assert wait_until(lambda: _status(queue, ref.id) == JobStatus.SUCCEEDED)


def test_the_notification_is_sent_at_commit_and_not_for_a_rollback(
    pg_engine: Engine, postgres_url: str
) -> None:
    sessions = make_session_factory(pg_engine)
    queue = JobQueue(sessions)
    with psycopg.connect(postgres_url, autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")
        with sessions.begin() as session:
            queue.enqueue(kind=KIND, payload={}, idempotency_key="in-tx", session=session)
            assert _notifications(listening) == []  # not before the row is visible
        assert [n.channel for n in _notifications(listening)] == [CHANNEL]

        session = sessions()
        queue.enqueue(kind=KIND, payload={}, idempotency_key="rolled-back", session=session)
        session.rollback()
        session.close()
        assert _notifications(listening) == []
        assert queue.get_by_key("rolled-back") is None

        queue.enqueue(kind=KIND, payload={}, idempotency_key="in-tx")  # the same key again
        assert _notifications(listening) == []  # no new job, nothing to wake anyone for


def test_the_listener_reconnects_after_its_session_is_killed(
    idle_worker: tuple[Done, JobRunner, JobListener], other_engine: Engine
) -> None:
    handler, _, listener = idle_worker
    [first] = _listener_sessions(other_engine)
    with other_engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})

    # A new session LISTENs again (the runner keeps polling meanwhile).
    assert wait_until(lambda: _listener_sessions(other_engine) not in ([], [first]), timeout=10)
    assert listener.wait_listening(10)

    queue = JobQueue(make_session_factory(other_engine))
    queue.enqueue(kind=KIND, payload={}, idempotency_key="after-reconnect")

    assert handler.event.wait(10), "the job waited for the runner's poll"


def _listener_sessions(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'platform-bot job listener'"
                )
            ).scalars()
        )


def _status(queue: JobQueue, job_id: int) -> Any:
    job = queue.get(job_id)
    return None if job is None else job.status


def _notifications(connection: psycopg.Connection[Any]) -> list[psycopg.Notify]:
    return list(connection.notifies(timeout=0.3))
