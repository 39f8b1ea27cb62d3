"""Time-based triggers: APScheduler 3 with a persistent job store, run on the leader only.

Tasks are static: each has a fixed id, a trigger and a callable, and is (re)registered when
this process becomes leader. Dynamic timing (an environment's expiry, a survey's reminders)
lives in domain tables and is found by a periodic task's sweep, never added here as one-off
jobs from another replica.

The store (`scheduler_job`, on the app database) keeps each task's next run time, so a run
missed while no leader was up still happens when one takes over (within the misfire grace).
What it stores is `bot.core.scheduler:run_task` with the task id as its only argument; the callable
itself is found at run time in this process's registry. A process serving several workspaces
runs one scheduler per workspace, each with its own `namespace`: its tasks are registered
(and stored) as `<namespace>/<task id>`, so each workspace's store calls its own callables.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Column, Engine, Float, LargeBinary, MetaData, Table, Unicode, select

from bot.core.db import NAMING_CONVENTION, Base
from bot.core.idempotency import IdempotencyStore
from bot.core.jobs import JobQueue
from bot.core.leader import LeaderElector

logger = logging.getLogger(__name__)

STORE_TABLE = "scheduler_job"
TASK_ID_LIMIT = 191
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The job store's table, declared here so that Alembic sees it in Base.metadata. It must match
# what SQLAlchemyJobStore declares for itself (a test compares the two).
scheduler_job = Table(
    STORE_TABLE,
    Base.metadata,
    Column("id", Unicode(TASK_ID_LIMIT), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


@dataclass(frozen=True)
class ScheduledTask:
    """A static periodic task: `func` runs in the leader process each time `trigger` fires."""

    id: str
    func: Callable[[], None]
    trigger: Any  # an apscheduler.triggers.base.BaseTrigger
    description: str = ""


class ScheduledJobInfo(NamedTuple):
    id: str
    next_run_time: datetime | None
    description: str


# The one deliberate global. APScheduler persists a textual reference to a module-level
# function plus primitive arguments, so a task's callable (a closure over services) cannot go
# into the store; `run_task` finds it here by id instead. `Scheduler.start` fills it.
_registry: dict[str, Callable[[], None]] = {}
_registry_lock = threading.Lock()


def run_task(task_id: str) -> None:
    """Run the task registered as `task_id`; the function APScheduler stores and calls."""
    with _registry_lock:
        func = _registry.get(task_id)
    if func is None:  # the namespace's scheduler stopped, or a task an older release stored
        logger.warning("scheduled task %r is not registered in this process; skipped", task_id)
        return
    func()


class _SharedEngineJobStore(SQLAlchemyJobStore):  # type: ignore[misc]  # untyped library
    """A job store on the app's engine, which must outlive the scheduler.

    SQLAlchemyJobStore disposes its engine on shutdown; on the app's engine that would close
    the pool under the rest of the app (and empty an in-memory SQLite database).
    """

    def shutdown(self) -> None:
        pass


class Scheduler:
    """Runs `tasks` on their triggers while this process is the leader.

    With `elector=None` the process schedules unconditionally: only right when it is the sole
    process using the database. `gate`, if given, is asked before each run: a task runs only
    while it answers true (a workspace's tasks only while the app is still installed there,
    whichever replica saw the uninstall).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        timezone: str | tzinfo,
        tasks: list[ScheduledTask],
        elector: LeaderElector | None,
        misfire_grace_seconds: int = 300,
        namespace: str = "",
        gate: Callable[[], bool] | None = None,
    ) -> None:
        ids = [task.id for task in tasks]
        if len(set(ids)) != len(ids):
            raise ValueError("scheduled task ids must be unique")
        for task_id in ids:
            if not task_id or len(task_id) > TASK_ID_LIMIT:
                raise ValueError(f"task id {task_id!r} must be 1..{TASK_ID_LIMIT} characters")
        self._engine = engine
        self._timezone = timezone
        self._tasks = {task.id: task for task in tasks}
        self._runs = {
            task.id: task.func if gate is None else _gated(task.id, task.func, gate)
            for task in tasks
        }
        self._elector = elector
        self._misfire_grace_seconds = misfire_grace_seconds
        self._namespace = namespace
        self._lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None
        self._stopping = False
        if elector is not None:
            elector.add_listener(on_elected=self._on_elected, on_demoted=self._on_demoted)

    @property
    def is_running(self) -> bool:
        """Whether the tasks run in this process now (it leads); for tests and diagnostics."""
        with self._lock:
            return self._scheduler is not None

    def start(self) -> None:
        """Compete for leadership; the tasks run while (and only while) this process leads."""
        with self._lock:
            self._stopping = False
        with _registry_lock:
            _registry.update(
                {self._registered(task_id): run for task_id, run in self._runs.items()}
            )
        if self._elector is None:
            self._on_elected()
        else:
            self._elector.start()

    def stop(self) -> None:
        """Stop scheduling, wait for running tasks, then give up leadership."""
        with self._lock:
            self._stopping = True
            scheduler, self._scheduler = self._scheduler, None
        # Wait for running tasks before releasing the lock, so a graceful handover never
        # runs a task on two replicas at once.
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        if self._elector is not None:
            self._elector.stop()
        if scheduler is not None:
            logger.info("stopped being the scheduler leader: shutting down")
        with _registry_lock:
            for task_id, run in self._runs.items():
                if _registry.get(self._registered(task_id)) is run:
                    del _registry[self._registered(task_id)]

    def _registered(self, task_id: str) -> str:
        """The task's id in the registry and as the stored job's argument."""
        return f"{self._namespace}/{task_id}" if self._namespace else task_id

    def jobs(self) -> list[ScheduledJobInfo]:
        """The jobs in the store with their next run, readable on any replica."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(scheduler_job.c.id, scheduler_job.c.next_run_time))
            stored = [(row.id, row.next_run_time) for row in rows]
        listing = [
            ScheduledJobInfo(
                id=job_id,
                next_run_time=None if timestamp is None else datetime.fromtimestamp(timestamp, UTC),
                description=(
                    self._tasks[job_id].description if job_id in self._tasks else "(unknown task)"
                ),
            )
            for job_id, timestamp in stored
        ]
        return sorted(listing, key=_listing_order)

    def _on_elected(self) -> None:
        with self._lock:
            if self._stopping or self._scheduler is not None:
                return
            scheduler = BackgroundScheduler(
                timezone=self._timezone,
                jobstores={
                    "default": _SharedEngineJobStore(
                        engine=self._engine,
                        tablename=STORE_TABLE,
                        # The convention gives the same constraint names as Base.metadata if
                        # the store ever has to create its table itself.
                        metadata=MetaData(naming_convention=NAMING_CONVENTION),
                    )
                },
                job_defaults={
                    "coalesce": True,
                    "max_instances": 1,
                    "misfire_grace_time": self._misfire_grace_seconds,
                },
            )
            # Paused until the store matches the registered tasks, so a stale job left by an
            # older version never fires.
            scheduler.start(paused=True)
            try:
                self._sync_store(scheduler)
                scheduler.resume()
            except Exception:
                scheduler.shutdown(wait=False)
                raise
            self._scheduler = scheduler
        # Operators follow leadership (and a failover) by these lines.
        logger.info("became the scheduler leader: running %d scheduled task(s)", len(self._tasks))

    def _on_demoted(self) -> None:
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            # Without waiting: leadership is already lost (or being handed over) and the
            # elector thread must not block behind a long task.
            scheduler.shutdown(wait=False)
            logger.info("stopped being the scheduler leader: lost the leader lock")

    def _sync_store(self, scheduler: BackgroundScheduler) -> None:
        for task in self._tasks.values():
            options: dict[str, Any] = {}
            stored = _stored_job(scheduler, task.id)
            if (
                stored is not None
                and stored.next_run_time is not None
                and _same_trigger(stored.trigger, task.trigger)
            ):
                # replace_existing would otherwise recompute the next run from now: a restart
                # would postpone an interval task and drop a cron run missed during failover.
                options["next_run_time"] = stored.next_run_time
            scheduler.add_job(
                run_task,
                trigger=task.trigger,
                args=(self._registered(task.id),),
                id=task.id,
                name=task.description or task.id,
                replace_existing=True,
                **options,
            )
        for job in scheduler.get_jobs():
            if job.id not in self._tasks:
                logger.info("removing stored scheduler job %r: no task has that id", job.id)
                scheduler.remove_job(job.id)


def _gated(task_id: str, func: Callable[[], None], gate: Callable[[], bool]) -> Callable[[], None]:
    def run_if_open() -> None:
        if not gate():
            logger.info("scheduled task %r skipped: its gate is closed", task_id)
            return
        func()

    return run_if_open


def _listing_order(job: ScheduledJobInfo) -> tuple[bool, datetime, str]:
    # Paused jobs (no next run) last, like APScheduler lists them.
    return (job.next_run_time is None, job.next_run_time or _EPOCH, job.id)


def _stored_job(scheduler: BackgroundScheduler, task_id: str) -> Any:
    try:
        return scheduler.get_job(task_id)
    except Exception:
        # A job stored by another version that no longer unpickles; add_job replaces it.
        logger.warning("stored scheduler job %r cannot be read; replacing it", task_id)
        return None


def _same_trigger(stored: Any, configured: Any) -> bool:
    # Triggers have no equality; their str() names the schedule (interval or cron fields).
    return (
        type(stored) is type(configured)
        and str(stored) == str(configured)
        and getattr(stored, "timezone", None) == getattr(configured, "timezone", None)
    )


# Slack retries arrive within minutes and double clicks within seconds; a week is ample.
KEEP_IDEMPOTENCY_KEYS = timedelta(days=7)


def housekeeping_task(
    queue: JobQueue, keep_finished_days: int, idempotency: IdempotencyStore | None = None
) -> ScheduledTask:
    """A daily task that deletes finished jobs and old idempotency keys."""

    def prune_finished_jobs() -> None:
        removed = queue.prune_finished(timedelta(days=keep_finished_days))
        logger.info("housekeeping: deleted %d finished job(s)", removed)
        if idempotency is not None:
            keys = idempotency.prune(KEEP_IDEMPOTENCY_KEYS)
            logger.info("housekeeping: deleted %d idempotency key(s)", keys)

    return ScheduledTask(
        id="housekeeping-prune-jobs",
        func=prune_finished_jobs,
        # A quiet hour, in UTC so the schedule does not depend on the platform's timezone.
        trigger=CronTrigger(hour=3, minute=17, timezone=UTC),
        description=f"Delete jobs that finished more than {keep_finished_days} days ago",
    )
