"""Prompt pickup on PostgreSQL: an enqueue sends NOTIFY, every runner process LISTENs.

`notify_new_job` runs `NOTIFY platform_bot_jobs` in the transaction that inserts (or gives
back) a job row. PostgreSQL delivers it at commit, never for a rolled-back transaction, to
every session listening on the channel, in any process. `JobListener` keeps one dedicated
connection per process listening and sets the runner's wake-up event on each notification,
so a worker process picks up a job that a `serve` process enqueued within milliseconds
instead of at its next poll.

Polling stays the fallback and the only mechanism on SQLite: a notification carries nothing
the runner needs (it claims from the table as always), a dropped connection is reopened with
backoff while the runner keeps polling, and jobs due later (retries, `run_after`) are found by
the poll.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bot.core.db import dedicated_engine, is_postgres

# One logger for the whole package: operators filter on "bot.core.jobs".
logger = logging.getLogger("bot.core.jobs")

CHANNEL = "platform_bot_jobs"


def notify_new_job(session: Session) -> None:
    """Tell every listening runner, at commit, that a job may be due; nothing on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


class JobListener:
    """LISTENs on its own PostgreSQL session and sets `wakeup` on each notification.

    On SQLite `start` does nothing: one process owns the database and wakes its own runner.
    """

    def __init__(
        self,
        engine: Engine,
        wakeup: threading.Event,
        *,
        check_interval: float = 0.5,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
    ) -> None:
        self._engine = engine
        self._wakeup = wakeup
        self._check_interval = check_interval
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        """Whether a LISTEN is in place now; for readiness and tests."""
        return self._listening.is_set()

    def wait_listening(self, timeout: float) -> bool:
        return self._listening.wait(timeout)

    def start(self) -> None:
        if not is_postgres(self._engine) or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="job-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        listen_engine = dedicated_engine(self._engine, purpose="job listener")
        delay = self._reconnect_delay
        try:
            while not self._stopping.is_set():
                try:
                    with listen_engine.connect() as connection:
                        self._listen(connection.connection.driver_connection)
                except Exception:
                    if self._listening.is_set():
                        delay = self._reconnect_delay  # it worked until now: retry soon
                    self._listening.clear()
                    logger.warning(
                        "listening for new jobs failed; polling until it reconnects in %.0f s",
                        delay,
                        exc_info=True,
                    )
                    self._stopping.wait(delay)
                    delay = min(delay * 2, self._max_reconnect_delay)
        finally:
            self._listening.clear()
            listen_engine.dispose()

    def _listen(self, connection: Any) -> None:
        # `connection` is the psycopg 3 Connection under SQLAlchemy's, in autocommit.
        connection.execute(f"LISTEN {CHANNEL}")
        self._listening.set()
        # A job enqueued while nothing listened sent its NOTIFY to nobody: look now.
        self._wakeup.set()
        logger.info("listening for new jobs on channel %s", CHANNEL)
        while not self._stopping.is_set():
            for _notification in connection.notifies(timeout=self._check_interval):
                self._wakeup.set()
