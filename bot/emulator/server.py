"""The HTTP face of the emulator: Web API, response_urls, file uploads and a control API.

Slack answers almost every Web API failure with HTTP 200 and `{"ok": false}`; only rate
limits (429) and outages (5xx) change the status, which is what retry handlers key on. The
control API under `/_emulator/` lets tests in another process inject faults and read what
the app did, without importing the emulator.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.emulator.api_chat import METHODS as CHAT
from bot.emulator.api_chat import store_upload
from bot.emulator.api_directory import METHODS as DIRECTORY
from bot.emulator.api_views import METHODS as VIEWS
from bot.emulator.backend import Backend
from bot.emulator.limits import Faults
from bot.emulator.oauth import AuthorizeRefused, Installs
from bot.emulator.params import ApiError, Args, ParamSpec
from bot.emulator.respond import deliver
from bot.emulator.shapes import message_json
from bot.emulator.socket_mode import SocketMode
from bot.emulator.state import JSON

logger = logging.getLogger(__name__)

METHODS: dict[str, Callable[[Backend, Args], JSON]] = {**CHAT, **DIRECTORY, **VIEWS}
SCOPES = ",".join(
    (
        "chat:write",
        "commands",
        "users:read",
        "users:read.email",
        "usergroups:read",
        "channels:read",
        "groups:read",
        "im:read",
        "im:write",
        "files:write",
    )
)


@dataclass(frozen=True)
class Call:
    """One Web API call as the app made it (the token is left out; `team` is the workspace
    whose bot token made it, "" when the token was none of theirs)."""

    method: str
    params: JSON
    status: int
    error: str | None
    team: str = ""


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def add(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def __call__(self, method: str | None = None, *, team: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method in (None, c.method) and team in (None, c.team)]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


@dataclass
class Service:
    """Everything a request handler needs; one per emulator."""

    backend: Backend
    """The first workspace: the one Socket Mode, the control API and the shell serve."""
    installs: Installs
    params: ParamSpec
    faults: Faults
    calls: CallLog
    stopping: threading.Event
    socket_mode: SocketMode


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SlackEmulator/1.0"
    service: Service  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_DELETE(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.service.backend.state.busy():
            if url.path.startswith("/api/"):
                self._api(url.path.removeprefix("/api/"), query, raw)
            elif url.path.startswith("/hooks/"):
                team, _, token = url.path.removeprefix("/hooks/").partition("/")
                self._response_url(team, token, raw)
            elif url.path.startswith("/upload/v1/"):
                file_id = url.path.rsplit("/", 1)[-1]
                ok = any(store_upload(b, file_id, raw) for b in self.service.installs.backends())
                self._send(200 if ok else 404, f"OK - {len(raw)}" if ok else "file_not_found")
            elif url.path == "/oauth/v2/authorize" and self.command == "GET":
                self._authorize(query)
            elif url.path.startswith("/_emulator/"):
                self._control(url.path.removeprefix("/_emulator/"), query, raw)
            else:
                self._send(404, {"ok": False, "error": "not_found"})

    # -- Web API --------------------------------------------------------------------------

    def _api(self, method: str, query: dict[str, str], raw: bytes) -> None:
        service = self.service
        try:
            args = {**query, **self._body(raw)}
        except ValueError:
            self._send(200, {"ok": False, "error": "invalid_json"})
            return
        token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or str(args.get("token") or "")
        params = {k: v for k, v in args.items() if k not in ("token", "client_secret")}
        try:
            backend: Backend | None = service.installs.by_token(token) if token else None
        except ApiError:
            backend = None
        status, body, headers = self._answer(method, token, args, backend)
        error = None if body.get("ok") else str(body.get("error"))
        team = backend.workspace.team.id if backend is not None else ""
        service.calls.add(Call(method, params, status, error, team))
        (backend or service.backend).state.record("api_call", detail=method)
        if status == 0:  # an injected timeout: hold, then drop the connection unanswered
            fault_hold = float(headers.pop("hold"))
            service.stopping.wait(fault_hold)
            self.close_connection = True
            return
        self._send(status, body, {"x-oauth-scopes": SCOPES, **headers})

    def _answer(
        self, method: str, token: str, args: JSON, backend: Backend | None
    ) -> tuple[int, JSON, dict[str, str]]:
        service = self.service
        fault = service.faults.take(method)
        if fault is not None:
            if fault.kind == "timeout":
                hold = fault.hold if fault.hold is not None else service.faults.timeout_hold
                return 0, {"ok": False, "error": "timeout"}, {"hold": str(hold)}
            if fault.kind == "rate_limited":
                retry = {"Retry-After": str(fault.retry_after)}
                return 429, {"ok": False, "error": "ratelimited"}, retry
            return fault.status, {"ok": False, "error": "fatal_error"}, {}
        try:
            if method == "apps.connections.open":  # the one method taking the app-level token
                bot_token = service.backend.bot_token
                return (
                    200,
                    {"ok": True, **service.socket_mode.open_connection(token, bot_token)},
                    {},
                )
            if method == "oauth.v2.access":  # authenticated by the app's client id and secret
                authorization = self.headers.get("Authorization", "")
                return 200, {"ok": True, **service.installs.access(args, authorization)}, {}
            if not token:
                raise ApiError("not_authed")
            if backend is None:
                service.installs.by_token(token)  # raises Slack's error for this token
                raise ApiError("invalid_auth")
            handler = METHODS.get(method)
            if handler is None:
                raise ApiError("unknown_method")
            if backend.limiter is not None:
                wait = backend.limiter.check(method, str(args.get("channel") or "") or None)
                if wait is not None:
                    return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
            service.params.check(method, args)
            return 200, {"ok": True, **handler(backend, Args(args))}, {}
        except ApiError as exc:
            return 200, exc.body(), {}

    def _body(self, raw: bytes) -> JSON:
        if not raw:
            return {}
        if "json" in self.headers.get("Content-Type", ""):
            parsed = json.loads(raw)
            if not isinstance(parsed, dict):
                raise ValueError("JSON body must be an object")
            return parsed
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))

    # -- response_url ---------------------------------------------------------------------

    def _response_url(self, team: str, token: str, raw: bytes) -> None:
        backend = self.service.installs.backend(team) or self.service.backend
        try:
            target = backend.redeem_response_url(token)
        except ApiError as exc:
            self._send(404, exc.body())
            return
        try:
            body = self._body(raw)
            deliver(backend, target, body)
        except ApiError as exc:
            self._send(400, exc.body())
            return
        except ValueError:
            self._send(400, {"ok": False, "error": "invalid_payload"})
            return
        self._send(200, {"ok": True})

    # -- OAuth ----------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> None:
        """Slack's authorize page, approved at once: redirect the browser back to the app."""
        try:
            location = self.service.installs.authorize(query)
        except AuthorizeRefused as refused:
            self._send(400, f"Slack cannot install this app: {refused}")
            return
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- control API ----------------------------------------------------------------------

    def _control(self, path: str, query: dict[str, str], raw: bytes) -> None:
        service = self.service
        if path == "faults" and self.command == "POST":
            try:
                fault = service.faults.inject_json(json.loads(raw or b"{}"))
            except (ValueError, TypeError) as exc:
                self._send(400, {"ok": False, "error": str(exc)})
                return
            self._send(200, {"ok": True, "fault": asdict(fault)})
        elif path == "faults" and self.command == "DELETE":
            service.faults.clear()
            self._send(200, {"ok": True})
        elif path == "calls":
            calls = [asdict(c) for c in service.calls(query.get("method"))]
            self._send(200, {"ok": True, "calls": calls})
        elif path == "messages":
            backend = service.backend
            channel = backend.workspace.channel(query.get("channel", ""))
            channel_id = channel.id if channel else query.get("channel", "")
            messages = [message_json(backend, m) for m in backend.state.messages(channel_id)]
            self._send(200, {"ok": True, "messages": messages})
        else:
            self._send(404, {"ok": False, "error": "not_found"})

    def _send(self, status: int, body: JSON | str, headers: dict[str, str] | None = None) -> None:
        is_json = isinstance(body, dict)
        data = (json.dumps(body) if is_json else str(body)).encode("utf-8")
        self.send_response(status)
        content_type = "application/json; charset=utf-8" if is_json else "text/plain"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _ApiServer(ThreadingHTTPServer):
    # Slack takes every connection. With socketserver's backlog of 5, concurrent clients
    # (slack_sdk opens a connection per call) overflow the listen queue, and each dropped
    # SYN stalls its caller for TCP's one-second retransmit.
    request_queue_size = 128
    daemon_threads = True


def make_server(service: Service, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"service": service})
    return _ApiServer((host, port), handler)


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="slack-emulator",
        daemon=True,
    )
    thread.start()
    return thread
