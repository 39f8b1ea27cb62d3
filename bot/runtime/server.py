"""gunicorn, run from code: `platform-bot serve` is a production WSGI server with threads.

Each worker builds its own services after the fork (database pools and background threads
must not cross a fork), starts the job runner and the leader election, and stops them on exit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

logger = logging.getLogger(__name__)

WsgiApp = Callable[..., Any]


class GunicornServer(BaseApplication):  # type: ignore[misc]
    def __init__(
        self,
        load_app: Callable[[], tuple[WsgiApp, Callable[[], None]]],
        *,
        bind: str,
        workers: int,
        threads: int,
        log_level: str,
    ) -> None:
        self._load_app = load_app
        self._options: dict[str, Any] = {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "loglevel": log_level.lower(),
            # Slack gives 3 s; a request still running after 30 s is stuck, not slow.
            "timeout": 30,
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": None,
            "worker_exit": self._worker_exit,
        }
        self._close: Callable[[], None] | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WsgiApp:
        app, close = self._load_app()
        self._close = close
        return app

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self._close is not None:
            self._close()
