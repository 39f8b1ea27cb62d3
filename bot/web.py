"""HTTP mode: the WSGI application and the gunicorn server that `platform-bot serve` runs.

Routes: POST /slack/events (commands, interactivity, events: Bolt verifies the signature),
GET /healthz (the process is up), GET /readyz (the database answers), GET /metrics.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from sqlalchemy import Engine, text

from bot import metrics

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
_TEXT: dict[str, Sequence[str]] = {"content-type": ["text/plain;charset=utf-8"]}


def _request_kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return "command"
    return str(body.get("type") or "unknown")


class WebApp:
    """A small WSGI router in front of Bolt; Bolt does signing, parsing and dispatch."""

    def __init__(
        self, app: App, engine: Engine, job_counts: Callable[[], dict[str, int]] | None = None
    ) -> None:
        self._app = app
        self._engine = engine
        self._job_counts = job_counts

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = WsgiHttpRequest(environ)
        route = (request.method, request.path)
        if route == ("POST", SLACK_PATH):
            response = self._slack(request)
        elif route == ("GET", "/healthz"):
            response = WsgiHttpResponse(status=200, headers=_TEXT, body="ok\n")
        elif route == ("GET", "/readyz"):
            response = self._ready()
        elif route == ("GET", "/metrics"):
            body, content_type = metrics.render(self._job_counts)
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        else:
            response = WsgiHttpResponse(status=404, headers=_TEXT, body="not found\n")
        start_response(response.status, response.get_headers())
        return response.get_body()

    def _slack(self, request: WsgiHttpRequest) -> WsgiHttpResponse:
        started = time.perf_counter()
        bolt_request = BoltRequest(
            body=request.get_body(), query=request.query_string, headers=request.get_headers()
        )
        bolt_response = self._app.dispatch(bolt_request)
        metrics.ACK_SECONDS.labels(kind=_request_kind(bolt_request.body)).observe(
            time.perf_counter() - started
        )
        return WsgiHttpResponse(
            status=bolt_response.status, headers=bolt_response.headers, body=bolt_response.body
        )

    def _ready(self) -> WsgiHttpResponse:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            logger.warning("readiness check failed: %s", type(exc).__name__)
            return WsgiHttpResponse(status=503, headers=_TEXT, body="database unavailable\n")
        return WsgiHttpResponse(status=200, headers=_TEXT, body="ready\n")


def prepare_multiprocess_metrics(workers: int) -> None:
    """Several gunicorn workers share metrics through files in one directory."""
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="platform-bot-metrics-")
