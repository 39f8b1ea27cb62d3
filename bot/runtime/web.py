"""HTTP mode: the WSGI application and the gunicorn server that `platform-bot serve` runs.

Routes: POST /slack/events (commands, interactivity, events), and the probes every process
serves (`Probes`, also a worker's whole HTTP surface): GET /healthz (the process is up),
GET /readyz (the database answers and the process is not stopping), GET /metrics. A
multi-workspace bot also serves its install link, GET /slack/install, and Slack's redirect
back after the install, GET /slack/oauth_redirect (Bolt's OAuth flow checks the state).

A request to /slack/events passes `bot.runtime.request_gate` first (size, signature,
shape); Bolt only ever sees a verified body it can parse. A refusal is one short log line
and a counted reason.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.oauth.oauth_flow import OAuthFlow
from sqlalchemy import Engine, text

from bot.core import metrics
from bot.runtime.request_gate import Refusal, Refused, RequestGate, request_kind

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
_TEXT: dict[str, Sequence[str]] = {"content-type": ["text/plain;charset=utf-8"]}
_JSON: dict[str, Sequence[str]] = {"content-type": ["application/json;charset=utf-8"]}

# Every reason is on /metrics from the start, at 0, so a rate can be taken from the first scrape.
for _reason in Refusal:
    metrics.REFUSED.labels(reason=_reason)


class Probes:
    """GET /healthz (the process is up), /readyz (it can do its work), /metrics: what the
    orchestrator and Prometheus ask of every process, `serve` and `worker` alike."""

    def __init__(
        self,
        engine: Engine,
        job_counts: Callable[[], dict[str, int]] | None = None,
        *,
        not_ready: Callable[[], str | None] = lambda: None,
        scheduler_leader: Callable[[], bool] | None = None,
    ) -> None:
        self._engine = engine
        self._job_counts = job_counts
        self._not_ready = not_ready
        self._scheduler_leader = scheduler_leader

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        route = _route(environ)
        if route == ("GET", "/metrics"):
            body, content_type = metrics.render(self._job_counts, self._scheduler_leader)
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if route == ("GET", "/healthz"):
            response = WsgiHttpResponse(status=200, headers=_TEXT, body="ok\n")
        elif route == ("GET", "/readyz"):
            response = self._ready()
        else:
            response = WsgiHttpResponse(status=404, headers=_TEXT, body="not found\n")
        start_response(response.status, response.get_headers())
        return response.get_body()

    def _ready(self) -> WsgiHttpResponse:
        reason = self._not_ready()
        if reason is not None:
            return WsgiHttpResponse(status=503, headers=_TEXT, body=f"{reason}\n")
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            logger.warning("readiness check failed: %s", type(exc).__name__)
            return WsgiHttpResponse(status=503, headers=_TEXT, body="database unavailable\n")
        return WsgiHttpResponse(status=200, headers=_TEXT, body="ready\n")


class Dispatcher(Protocol):
    """What answers a verified Slack request: the Bolt App, or a multi-workspace bot's
    `WorkspaceDispatcher` that hands it to its workspace's App."""

    def dispatch(self, req: BoltRequest) -> BoltResponse: ...


class WebApp:
    """A small WSGI router in front of Bolt; the gate checks requests, Bolt dispatches them."""

    def __init__(
        self,
        app: Dispatcher,
        engine: Engine,
        job_counts: Callable[[], dict[str, int]] | None = None,
        *,
        signing_secret: str,
        oauth: OAuthFlow | None = None,
    ) -> None:
        self._app = app
        self._probes = Probes(engine, job_counts)
        self._gate = RequestGate(signing_secret)
        self._oauth = oauth

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        route = _route(environ)
        if route == ("POST", SLACK_PATH):
            response = self._slack(environ)
        elif self._oauth is not None and route in (("GET", INSTALL_PATH), ("GET", REDIRECT_PATH)):
            response = self._install(environ, self._oauth)
        else:
            return self._probes(environ, start_response)
        start_response(response.status, response.get_headers())
        return response.get_body()

    def _install(self, environ: WSGIEnvironment, oauth: OAuthFlow) -> WsgiHttpResponse:
        """The install link and Slack's redirect back: Bolt's OAuth flow, which issues and
        checks the state (cookie and store) and exchanges the code for the bot token."""
        request = BoltRequest(
            body="",
            query=str(environ.get("QUERY_STRING") or ""),
            headers=dict(WsgiHttpRequest(environ).get_headers()),
        )
        if _route(environ)[1] == INSTALL_PATH:
            answer = oauth.handle_installation(request)
        else:
            answer = oauth.handle_callback(request)
        return WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)

    def _slack(self, environ: WSGIEnvironment) -> WsgiHttpResponse:
        started = time.perf_counter()
        try:
            bolt_request = self._gate.admit(environ)
        except Refused as refused:
            metrics.REFUSED.labels(reason=refused.reason).inc()
            logger.warning(
                "refused a request to %s (HTTP %d): %s", SLACK_PATH, refused.status, refused
            )
            return WsgiHttpResponse(
                status=refused.status, headers=_JSON, body=json.dumps({"error": refused.reason})
            )
        bolt_response = self._app.dispatch(bolt_request)
        metrics.ACK_SECONDS.labels(kind=request_kind(bolt_request.body)).observe(
            time.perf_counter() - started
        )
        return WsgiHttpResponse(
            status=bolt_response.status, headers=bolt_response.headers, body=bolt_response.body
        )


def _route(environ: WSGIEnvironment) -> tuple[str, str]:
    return environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http: " + format, *args)


class BackgroundHttpServer:
    """A threaded WSGI server on a daemon thread: the shell's local app, a worker's probes."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, host: str, port: int) -> None:
        self._server = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(
            # A short poll lets `stop` return at once instead of after up to half a second.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"http-{self.port}",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def prepare_multiprocess_metrics(workers: int) -> None:
    """Several gunicorn workers share metrics through files in one directory."""
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="platform-bot-metrics-")
