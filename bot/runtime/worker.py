"""`platform-bot worker`: the job runner and the leader-elected scheduler, apart from Slack.

With `jobs.run_in: workers`, `serve` and `socket` only ack and enqueue. Worker processes (any
number of them on the shared PostgreSQL database; one on SQLite) claim the jobs, woken by
LISTEN/NOTIFY as soon as a job is committed, and the one holding the leader lock runs the
scheduled tasks. A small HTTP port answers the orchestrator and Prometheus:

- GET /healthz: the process is up;
- GET /readyz: the database answers, the job runner runs and the worker is not stopping;
- GET /metrics: job outcomes, job counts by status, `platform_bot_scheduler_leader`.

SIGTERM (or SIGINT) stops it cleanly: /readyz turns 503, the scheduler lets a running task
finish and releases the leader lock (another worker takes over within its poll), running jobs
get `jobs.stop_grace_seconds` to finish and are then given back to the queue, whole, for
another worker to resume; the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from bot.runtime.services import Role, Services
from bot.runtime.web import BackgroundHttpServer, Probes

logger = logging.getLogger("platform_bot.worker")

DEFAULT_HEALTH_PORT = 8081


class Worker:
    """Runs `services`' jobs and scheduler until stopped; owns and closes `services`."""

    def __init__(self, services: Services, *, host: str, health_port: int) -> None:
        self._services = services
        self._stopping = threading.Event()
        self._started = False
        probes = Probes(
            services.engine,
            services.jobs.counts_by_status,
            not_ready=self._not_ready,
            scheduler_leader=lambda: services.scheduler.is_running,
        )
        self._http = BackgroundHttpServer(probes, host=host, port=health_port)
        self._host = host

    @property
    def services(self) -> Services:
        return self._services

    @property
    def health_port(self) -> int:
        """The probes' port (the one asked for, or the one chosen for port 0)."""
        return self._http.port

    def start(self) -> None:
        self._services.start_background(Role.WORKER)
        self._started = True
        self._http.start()
        logger.info(
            "worker %s: running jobs on %d thread(s); probes at http://%s:%d/readyz",
            self._services.runner.worker_id,
            self._services.config.jobs.workers,
            self._host,
            self.health_port,
        )

    def request_stop(self) -> None:
        """Ask `run` to stop; safe from a signal handler."""
        self._stopping.set()

    def stop(self) -> None:
        """Stop scheduling and running jobs (see the module docstring), then close."""
        self._stopping.set()
        logger.info("worker %s: stopping", self._services.runner.worker_id)
        try:
            self._services.close()
        finally:
            self._http.stop()
        logger.info("worker %s: stopped", self._services.runner.worker_id)

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
        if not self._started or not self._services.runner.is_running:
            return "the job runner is not running"
        return None
