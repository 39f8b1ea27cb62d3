"""`platform-bot worker`: the job runner and the leader-elected scheduler, apart from Slack.

With `jobs.run_in: workers`, `serve` and `socket` only ack and enqueue. Worker processes (any
number of them on the shared PostgreSQL database; one on SQLite) claim the jobs, woken by
LISTEN/NOTIFY as soon as a job is committed, and the one holding the leader lock runs the
scheduled tasks. A small HTTP port answers the orchestrator and Prometheus:

- GET /healthz: the process is up;
- GET /readyz: the database answers, the job runner runs and the worker is not stopping;
- GET /metrics: job outcomes, job counts by status, `platform_bot_scheduler_leader`.

For an app installed in several workspaces the worker runs every installed workspace's jobs
and schedules, each on its own schema and token (`bot.runtime.tenants`), and follows installs
and uninstalls.

SIGTERM (or SIGINT) stops it cleanly: /readyz turns 503, the scheduler lets a running task
finish and releases the leader lock (another worker takes over within its poll), running jobs
get `jobs.stop_grace_seconds` to finish and are then given back to the queue, whole, for
another worker to resume; the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

from sqlalchemy import Engine

from bot.core.jobs.runner import default_worker_id
from bot.runtime.config import PlatformConfig
from bot.runtime.services import Role, Services, build_services
from bot.runtime.settings import Settings
from bot.runtime.tenants import Tenants
from bot.runtime.web import BackgroundHttpServer, Probes
from bot.runtime.workspaces import multi_workspace_worker

logger = logging.getLogger("platform_bot.worker")

DEFAULT_HEALTH_PORT = 8081


@contextmanager
def worker_for(
    settings: Settings, config: PlatformConfig, engine: Engine, *, host: str, health_port: int
) -> Iterator[Worker]:
    """The worker of this deployment on the app database `engine` (at head): one bot's, or
    with SLACK_CLIENT_ID every installed workspace's. OSError: the probes' port is taken."""
    if settings.multi_workspace:
        with multi_workspace_worker(settings, config, engine=engine) as tenants:
            work = WorkspacesWorkload(tenants, engine, threads=config.jobs.workers)
            yield Worker(work, host=host, health_port=health_port)
        return
    services = build_services(settings, config, engine=engine)
    try:
        worker = Worker(services, host=host, health_port=health_port)
    except BaseException:
        services.close()
        raise
    yield worker  # its stop closes the services


class Workload(Protocol):
    """What a worker runs: one bot's services, or every installed workspace's."""

    engine: Engine
    worker_id: str
    threads: int
    """Job-runner threads (of each workspace)."""

    def start(self) -> None: ...

    def close(self) -> None: ...

    def job_counts(self) -> dict[str, int]: ...

    def leads(self) -> bool: ...

    def runs_jobs(self) -> bool: ...


class ServicesWorkload:
    """One bot's jobs and scheduler."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.engine = services.engine
        self.worker_id = services.runner.worker_id
        self.threads = services.config.jobs.workers

    def start(self) -> None:
        self.services.start_background(Role.WORKER)

    def close(self) -> None:
        self.services.close()

    def job_counts(self) -> dict[str, int]:
        return self.services.jobs.counts_by_status()

    def leads(self) -> bool:
        return self.services.scheduler.is_running

    def runs_jobs(self) -> bool:
        return self.services.runner.is_running


class WorkspacesWorkload:
    """Every installed workspace's jobs and scheduler (`multi_workspace_worker` started
    them); `engine` is the main database, where the installs are."""

    def __init__(self, tenants: Tenants, engine: Engine, *, threads: int) -> None:
        self.tenants = tenants
        self.engine = engine
        self.worker_id = default_worker_id()
        self.threads = threads

    def start(self) -> None:
        pass  # started when the installs were read

    def close(self) -> None:
        self.tenants.close()

    def job_counts(self) -> dict[str, int]:
        return self.tenants.job_counts()

    def leads(self) -> bool:
        return any(tenant.services.scheduler.is_running for tenant in self.tenants.running())

    def runs_jobs(self) -> bool:
        # No workspace installed yet is no fault: there is no job to run.
        return all(tenant.services.runner.is_running for tenant in self.tenants.running())


class Worker:
    """Runs `work` (a bot's services, or every workspace's) until stopped; owns and
    closes it."""

    def __init__(self, work: Services | Workload, *, host: str, health_port: int) -> None:
        self._work: Workload = ServicesWorkload(work) if isinstance(work, Services) else work
        self._stopping = threading.Event()
        self._started = False
        probes = Probes(
            self._work.engine,
            self._work.job_counts,
            not_ready=self._not_ready,
            scheduler_leader=self._work.leads,
        )
        self._http = BackgroundHttpServer(probes, host=host, port=health_port)
        self._host = host

    @property
    def services(self) -> Services:
        """The bot's services (a one-workspace worker)."""
        assert isinstance(self._work, ServicesWorkload)
        return self._work.services

    @property
    def health_port(self) -> int:
        """The probes' port (the one asked for, or the one chosen for port 0)."""
        return self._http.port

    def start(self) -> None:
        self._work.start()
        self._started = True
        self._http.start()
        logger.info(
            "worker %s: running jobs on %d thread(s); probes at http://%s:%d/readyz",
            self._work.worker_id,
            self._work.threads,
            self._host,
            self.health_port,
        )

    def request_stop(self) -> None:
        """Ask `run` to stop; safe from a signal handler."""
        self._stopping.set()

    def stop(self) -> None:
        """Stop scheduling and running jobs (see the module docstring), then close."""
        self._stopping.set()
        logger.info("worker %s: stopping", self._work.worker_id)
        try:
            self._work.close()
        finally:
            self._http.stop()
        logger.info("worker %s: stopped", self._work.worker_id)

    def run(self) -> None:
        """Start, wait for SIGTERM or SIGINT, stop. Call it from the main thread."""
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self.start()
            # A timed wait, so the main thread wakes to run the signal handler promptly.
            while not self._stopping.wait(1.0):
                pass
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.stop()

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        # Only sets an event: logging here could deadlock on a lock the main thread holds.
        self.request_stop()

    def _not_ready(self) -> str | None:
        if self._stopping.is_set():
            return "stopping"
        if not self._started or not self._work.runs_jobs():
            return "the job runner is not running"
        return None
