"""Leader election: exactly one process in a deployment runs the scheduler.

On PostgreSQL the leader is whoever holds a session-level advisory lock. The lock lives on one
dedicated connection that the elector opens itself and keeps for as long as it runs; a pooled
connection would hand the lock to whichever request checked it out next. When the holder
dies, PostgreSQL ends its session and drops the lock, and the next poll of another replica
takes it. On SQLite the database belongs to a single process, which is always the leader.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, func, select, text

from bot.core.db import dedicated_engine, is_postgres

logger = logging.getLogger(__name__)

_BIGINT = 2**63


class LeaderElector:
    """Holds the leader lock `key` and says when this process gains or loses it.

    Listeners run on the elector's thread (on SQLite, in `start` and `stop`). `on_demoted`
    runs before the lock is released, so the work it stops does not overlap the next
    leader's; only a lost connection demotes after the fact.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        key: int,
        poll_interval: float = 5.0,
        on_elected: Callable[[], None] | None = None,
        on_demoted: Callable[[], None] | None = None,
    ) -> None:
        if not -_BIGINT <= key < _BIGINT:
            raise ValueError("the leader lock key must fit in a PostgreSQL bigint")
        self._engine = engine
        self._key = key
        self._poll_interval = poll_interval
        self._listeners: list[tuple[Callable[[], None], Callable[[], None]]] = []
        self._leader = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Connection | None = None
        self._lock_engine: Engine | None = None
        self._start_stop = threading.Lock()
        if on_elected is not None or on_demoted is not None:
            self.add_listener(on_elected=on_elected, on_demoted=on_demoted)

    def add_listener(
        self,
        *,
        on_elected: Callable[[], None] | None = None,
        on_demoted: Callable[[], None] | None = None,
    ) -> None:
        """Call `on_elected` on gaining leadership and `on_demoted` on losing it."""
        with self._start_stop:
            if self._thread is not None or self._leader.is_set():
                raise RuntimeError("add listeners before starting the elector")
            self._listeners.append((on_elected or _noop, on_demoted or _noop))

    @property
    def is_leader(self) -> bool:
        """Whether this process leads now; for tests and diagnostics (the scheduler is told
        through its listeners instead)."""
        return self._leader.is_set()

    def start(self) -> None:
        with self._start_stop:
            if self._thread is not None or (self._leader.is_set() and not self._postgres):
                raise RuntimeError("the leader elector is already started")
            self._stopping.clear()
            if not self._postgres:
                self._elect()
                return
            # Its own session, so the lock never outlives this elector's use of it; keepalives
            # make a leader cut off from the database demote itself about when the server
            # drops its lock.
            self._lock_engine = dedicated_engine(self._engine, purpose="leader lock")
            self._thread = threading.Thread(
                target=self._run, name=f"leader-elector-{self._key}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop competing; if leader, call on_demoted and then release the lock."""
        with self._start_stop:
            if not self._postgres:
                if self._leader.is_set():
                    self._demote()
                return
            self._stopping.set()
            if self._thread is not None:
                self._thread.join(timeout)
                self._thread = None
            if self._lock_engine is not None:
                self._lock_engine.dispose()
                self._lock_engine = None

    @property
    def _postgres(self) -> bool:
        return is_postgres(self._engine)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._poll()
            except Exception:
                logger.exception("leader election poll failed")
            self._stopping.wait(self._poll_interval)
        leader = self._leader.is_set()
        if leader:
            self._demote()
        self._close_connection(release=leader)

    def _poll(self) -> None:
        if self._leader.is_set():
            if not self._alive():
                logger.warning("lost the database connection holding leader lock %s", self._key)
                self._demote()
                self._close_connection(release=False)
            return
        if self._try_acquire():
            logger.info("elected leader (lock %s)", self._key)
            self._elect()

    def _alive(self) -> bool:
        assert self._connection is not None
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def _try_acquire(self) -> bool:
        assert self._lock_engine is not None
        try:
            if self._connection is None:
                self._connection = self._lock_engine.connect()
            acquired = self._connection.execute(select(func.pg_try_advisory_lock(self._key)))
            return bool(acquired.scalar_one())
        except Exception:
            logger.warning("cannot reach the database to compete for leadership", exc_info=True)
            self._close_connection(release=False)
            return False

    def _elect(self) -> None:
        self._leader.set()
        try:
            for on_elected, _ in self._listeners:
                on_elected()
        except Exception:
            # Holding the lock without doing the leader's work would stall every replica, so
            # give it up and compete again at the next poll.
            logger.exception("starting leader duties failed; resigning leadership")
            self._demote()
            if self._postgres:
                self._close_connection(release=True)

    def _demote(self) -> None:
        self._leader.clear()
        for _, on_demoted in reversed(self._listeners):
            try:
                on_demoted()
            except Exception:
                logger.exception("stopping leader duties failed")

    def _close_connection(self, *, release: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if release:
                connection.execute(select(func.pg_advisory_unlock(self._key)))
        except Exception:
            logger.warning("releasing leader lock %s failed", self._key, exc_info=True)
        finally:
            # Closing the session releases the lock even when the unlock above failed.
            connection.close()


def _noop() -> None:
    pass
