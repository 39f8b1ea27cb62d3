"""The scheduler: tasks persisted in the store, run by exactly one leader at a time."""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select, update

from bot.core.db import SessionFactory
from bot.core.idempotency import IdempotencyStore
from bot.core.jobs import Job, JobQueue, JobStatus
from bot.core.leader import LeaderElector
from bot.core.scheduler import (
    STORE_TABLE,
    ScheduledTask,
    Scheduler,
    housekeeping_task,
    run_task,
    scheduler_job,
)
from tests.conftest import REPO_ROOT
from tests.core.polling import wait_until
from tests.core.scheduler_node_process import probe_table

NODE = "tests.core.scheduler_node_process"


class Calls:
    def __init__(self) -> None:
        self.count = 0
        self.ran = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.ran.set()


def nightly(func: Calls | None = None, *, hour: int = 2) -> ScheduledTask:
    return ScheduledTask(
        id="nightly-report",
        func=func or Calls(),
        trigger=CronTrigger(hour=hour, timezone=UTC),
        description="Post the nightly adoption report",
    )


@pytest.fixture
def schedulers(engine: Engine) -> Iterator[list[Scheduler]]:
    # Depends on `engine` so that the schedulers stop before the database is dropped.
    started: list[Scheduler] = []
    yield started
    for scheduler in started:
        scheduler.stop()


@pytest.fixture
def start_scheduler(
    engine: Engine, schedulers: list[Scheduler]
) -> Iterator[Callable[[list[ScheduledTask]], Scheduler]]:
    def start(tasks: list[ScheduledTask]) -> Scheduler:
        elector = LeaderElector(engine, key=random.randrange(1, 2**31), poll_interval=0.05)
        scheduler = Scheduler(engine, timezone="UTC", tasks=tasks, elector=elector)
        schedulers.append(scheduler)
        scheduler.start()
        assert wait_until(lambda: scheduler.is_running)
        return scheduler

    yield start


def test_the_store_table_is_the_one_apscheduler_declares(sqlite_engine: Engine) -> None:
    store = SQLAlchemyJobStore(engine=sqlite_engine, tablename=STORE_TABLE)

    def shape(table: object) -> list[tuple[str, str, bool, bool]]:
        return [
            (column.name, repr(column.type), column.nullable, column.primary_key)
            for column in table.columns  # type: ignore[attr-defined]
        ]

    assert shape(store.jobs_t) == shape(scheduler_job)
    assert [column.name for column in store.jobs_t.columns if column.index] == ["next_run_time"]
    assert [index.columns.keys() for index in scheduler_job.indexes] == [["next_run_time"]]


def test_the_leader_stores_each_task_and_any_replica_lists_it(
    engine: Engine, start_scheduler: Callable[[list[ScheduledTask]], Scheduler]
) -> None:
    scheduler = start_scheduler([nightly()])

    [job] = scheduler.jobs()
    assert job.id == "nightly-report"
    assert job.description == "Post the nightly adoption report"
    assert job.next_run_time is not None and job.next_run_time > datetime.now(UTC)
    assert (job.next_run_time.hour, job.next_run_time.minute) == (2, 0)

    with engine.connect() as connection:
        stored = pickle.loads(connection.execute(select(scheduler_job.c.job_state)).scalar_one())
    assert (stored["func"], stored["args"]) == ("bot.core.scheduler:run_task", ("nightly-report",))

    follower = Scheduler(engine, timezone="UTC", tasks=[nightly()], elector=None)
    assert not follower.is_running
    assert follower.jobs() == [job]


def test_a_stored_job_that_is_no_longer_a_task_is_removed_on_start(
    engine: Engine,
    schedulers: list[Scheduler],
    start_scheduler: Callable[[list[ScheduledTask]], Scheduler],
) -> None:
    retired = ScheduledTask(
        id="retired-sweep", func=Calls(), trigger=IntervalTrigger(minutes=5, timezone=UTC)
    )
    old = start_scheduler([nightly(), retired])
    assert {job.id for job in old.jobs()} == {"nightly-report", "retired-sweep"}
    old.stop()
    schedulers.remove(old)

    new = start_scheduler([nightly()])

    assert [job.id for job in new.jobs()] == ["nightly-report"]


def test_a_restart_keeps_the_stored_next_run_unless_the_trigger_changed(
    schedulers: list[Scheduler], start_scheduler: Callable[[list[ScheduledTask]], Scheduler]
) -> None:
    def hourly(hours: int) -> ScheduledTask:
        trigger = IntervalTrigger(hours=hours, timezone=UTC)
        return ScheduledTask(id="sweep", func=Calls(), trigger=trigger)

    first = start_scheduler([hourly(1)])
    [before] = first.jobs()
    first.stop()
    schedulers.remove(first)
    time.sleep(0.05)

    second = start_scheduler([hourly(1)])
    [kept] = second.jobs()
    second.stop()
    schedulers.remove(second)

    third = start_scheduler([hourly(2)])
    [changed] = third.jobs()

    assert kept.next_run_time == before.next_run_time
    assert changed.next_run_time is not None and before.next_run_time is not None
    assert changed.next_run_time - before.next_run_time > timedelta(minutes=59)


def test_a_run_missed_while_no_leader_was_up_happens_on_takeover(
    engine: Engine,
    schedulers: list[Scheduler],
    start_scheduler: Callable[[list[ScheduledTask]], Scheduler],
) -> None:
    first = start_scheduler([nightly()])
    first.stop()
    schedulers.remove(first)
    # The run was due a minute ago, inside the five-minute misfire grace. The store keeps the
    # time twice: in a column to find due jobs and in the pickled job itself.
    due = datetime.now(UTC) - timedelta(minutes=1)
    with engine.begin() as connection:
        state = pickle.loads(connection.execute(select(scheduler_job.c.job_state)).scalar_one())
        state["next_run_time"] = due
        connection.execute(
            update(scheduler_job).values(
                next_run_time=due.timestamp(), job_state=pickle.dumps(state)
            )
        )

    calls = Calls()
    start_scheduler([nightly(calls)])

    assert calls.ran.wait(5)
    assert calls.count == 1


def test_run_task_runs_the_registered_callable_and_skips_unknown_ids(
    start_scheduler: Callable[[list[ScheduledTask]], Scheduler], caplog: pytest.LogCaptureFixture
) -> None:
    calls = Calls()
    start_scheduler([nightly(calls)])

    run_task("nightly-report")
    with caplog.at_level(logging.WARNING, logger="bot.core.scheduler"):
        run_task("retired-sweep")

    assert calls.count == 1
    assert "'retired-sweep' is not registered" in caplog.text


def test_schedulers_of_two_workspaces_each_run_their_own_task_of_the_same_id(
    sqlite_engine: Engine,
) -> None:
    """A process serving several workspaces runs a scheduler per workspace, on each one's
    own store: a stored job calls the task of its own namespace, never the other's."""
    acme, beta = Calls(), Calls()
    schedulers = [
        Scheduler(sqlite_engine, timezone="UTC", tasks=[nightly(calls)], elector=None, namespace=ns)
        for calls, ns in ((acme, "T0ACME"), (beta, "T0BETA"))
    ]
    for scheduler in schedulers:
        scheduler.start()
    try:
        with sqlite_engine.connect() as connection:
            stored = connection.execute(select(scheduler_job.c.job_state)).scalars().all()
        assert [pickle.loads(state)["args"] for state in stored] == [("T0BETA/nightly-report",)]
        run_task("T0ACME/nightly-report")
        assert (acme.count, beta.count) == (1, 0)
        run_task("T0BETA/nightly-report")
        assert (acme.count, beta.count) == (1, 1)
        run_task("nightly-report")  # no workspace registered it without a namespace
        assert (acme.count, beta.count) == (1, 1)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    run_task("T0ACME/nightly-report")  # stopped: unregistered
    assert acme.count == 1


def test_a_task_runs_only_while_its_gate_is_open(sqlite_engine: Engine) -> None:
    """A workspace uninstalled through another replica: its tasks here are skipped at once,
    and run again when the gate opens (a re-install)."""
    calls, is_open = Calls(), [False]
    scheduler = Scheduler(
        sqlite_engine,
        timezone="UTC",
        tasks=[nightly(calls)],
        elector=None,
        namespace="T0ACME",
        gate=lambda: is_open[0],
    )
    scheduler.start()
    try:
        run_task("T0ACME/nightly-report")
        assert calls.count == 0
        is_open[0] = True
        run_task("T0ACME/nightly-report")
        assert calls.count == 1
    finally:
        scheduler.stop()
    run_task("T0ACME/nightly-report")  # stopped: its gated run is unregistered too
    assert calls.count == 1


@pytest.mark.postgres
def test_of_two_schedulers_on_postgres_only_the_leader_runs(pg_engine: Engine) -> None:
    key = random.randrange(1, 2**31)
    first, second = (
        Scheduler(
            pg_engine,
            timezone="UTC",
            tasks=[nightly()],
            elector=LeaderElector(pg_engine, key=key, poll_interval=0.05),
        )
        for _ in range(2)
    )
    try:
        first.start()
        assert wait_until(lambda: first.is_running)
        second.start()
        assert not wait_until(lambda: second.is_running, timeout=0.5)

        first.stop()
        assert not first.is_running
        assert wait_until(lambda: second.is_running)
    finally:
        first.stop()
        second.stop()


def test_housekeeping_deletes_jobs_finished_longer_ago_than_kept(
    sessions: SessionFactory,
) -> None:
    queue = JobQueue(sessions)
    old = queue.enqueue(kind="provision-db", payload={}, idempotency_key="old")
    recent = queue.enqueue(kind="provision-db", payload={}, idempotency_key="recent")
    with sessions.begin() as session:
        for ref, age in [(old, timedelta(days=8)), (recent, timedelta(days=6))]:
            session.execute(
                update(Job)
                .where(Job.id == ref.id)
                .values(status=JobStatus.SUCCEEDED, finished_at=datetime.now(UTC) - age)
            )

    task = housekeeping_task(queue, keep_finished_days=7)
    task.func()

    assert queue.get(old.id) is None
    assert queue.get(recent.id) is not None
    fires = task.trigger.get_next_fire_time(None, datetime(2030, 1, 1, tzinfo=UTC))
    assert fires == datetime(2030, 1, 1, 3, 17, tzinfo=UTC)


def test_housekeeping_forgets_idempotency_keys_after_a_week(sessions: SessionFactory) -> None:
    now = datetime.now(UTC)
    old_store = IdempotencyStore(sessions, clock=lambda: now - timedelta(days=8))
    assert old_store.claim("command:old", scope="/platform new-db")
    store = IdempotencyStore(sessions, clock=lambda: now)
    assert store.claim("command:recent", scope="/platform new-db")

    housekeeping_task(JobQueue(sessions), keep_finished_days=30, idempotency=store).func()

    assert store.claim("command:old", scope="/platform new-db")  # forgotten: claimable again
    assert not store.claim("command:recent", scope="/platform new-db")


@pytest.mark.postgres
@pytest.mark.slow
def test_two_scheduler_processes_never_run_tasks_at_the_same_time(
    pg_engine: Engine, postgres_url: str
) -> None:
    table = f"scheduler_probe_{uuid.uuid4().hex[:8]}"
    probe = probe_table(table)
    probe.create(pg_engine)
    key = str(random.randrange(1, 2**31))

    def node(seconds: float) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", NODE, postgres_url, key, table, str(seconds)],
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def runs() -> list[tuple[int, float, float | None]]:
        with pg_engine.connect() as connection:
            rows = connection.execute(select(probe.c.pid, probe.c.started, probe.c.ended))
            return [(row.pid, row.started, row.ended) for row in rows]

    try:
        with node(30) as first:
            try:
                assert wait_until(lambda: runs(), timeout=15), "the first node never led"
                with node(4) as second:
                    try:
                        # The second node competes while the first leads: it must only wait.
                        time.sleep(1.5)
                        killed_at = time.time()
                        os.kill(first.pid, signal.SIGKILL)
                        first.wait(10)
                        dead_at = time.time()
                        _, errors = second.communicate(timeout=20)
                        assert second.returncode == 0, errors.decode()
                    finally:
                        if second.poll() is None:
                            second.kill()
                            second.communicate(timeout=10)
            finally:
                if first.poll() is None:
                    first.kill()
                first.communicate(timeout=10)
        recorded = runs()
    finally:
        probe.drop(pg_engine)

    by_pid: dict[int, list[tuple[float, float]]] = {}
    for pid, started, ended in recorded:
        # A run cut short by the kill lasted until the process was gone.
        by_pid.setdefault(pid, []).append((started, ended if ended is not None else dead_at))
    assert set(by_pid) == {first.pid, second.pid}
    assert all(started > killed_at for started, _ in by_pid[second.pid]), "ran beside the leader"
    assert all(ended is not None for pid, _, ended in recorded if pid == second.pid)
    intervals = sorted(
        (started, ended, pid) for pid, spans in by_pid.items() for started, ended in spans
    )
    for (_, ended, pid), (started, _, next_pid) in itertools.pairwise(intervals):
        assert pid == next_pid or ended <= started, "two processes ran the task at once"
