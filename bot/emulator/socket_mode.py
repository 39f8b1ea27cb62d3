"""Slack's Socket Mode for the app: `apps.connections.open`, the WebSocket, hello and acks.

The app calls `apps.connections.open` with its app-level token (`xapp-…`) and gets a
`ws://` URL holding a single-use ticket; on connecting it is greeted with `hello`, then
receives envelopes (see `envelopes.py`) and acks each by sending back its `envelope_id`, with a
`payload` where the envelope accepts one (a slash command's reply, a modal's
`response_action`). Slack may ask the app to move: a `disconnect` message (`warning`,
`refresh_requested`, `link_disabled`) before it closes the connection, or a plain close.
`drop()` and `disconnect()` play those; `lose_acks()` plays an ack that never arrives.

One thread, the pump, sends every envelope; connection threads only read acks. The WebSocket
server and the pump start with the first `apps.connections.open` or delivery, so an emulator
that only speaks HTTP starts neither.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from bot.emulator.backend import Backend
from bot.emulator.delivery import NO_ANSWER, EnvelopeType, SignedResponse, ack_response
from bot.emulator.envelopes import RETRY_REASON, Envelope, Outbox, Sent
from bot.emulator.params import ApiError
from bot.emulator.state import JSON, State

logger = logging.getLogger(__name__)

TICKET_TTL = 30.0
DISCONNECT_REASONS = ("warning", "refresh_requested", "link_disabled")
# Slack closes a connection some seconds after asking the app to move off it.
DISCONNECT_GRACE = 10.0
MAX_ACK_BYTES = 1024 * 1024
GOING_AWAY = 1001


@dataclass
class _Link:
    id: int
    connection: ServerConnection
    lock: threading.Lock
    close_at: float | None = None
    asked_to_move: bool = False  # sent a `disconnect`: new envelopes go elsewhere if they can

    def send(self, message: JSON) -> None:
        with self.lock:
            self.connection.send(json.dumps(message))


class SocketMode:
    def __init__(
        self,
        backend: Backend,
        *,
        ack_timeout: float = 3.0,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backend = backend
        self._clock = clock
        app = backend.workspace.app
        self.app_token = f"xapp-1-{app.id}-{secrets.randbelow(10**13)}-{secrets.token_hex(32)}"
        self.outbox = Outbox(clock, ack_timeout=ack_timeout, max_retries=max_retries)
        self.host = "127.0.0.1"
        self._lock = threading.Lock()
        self._tickets: dict[str, float] = {}
        self._links: dict[int, _Link] = {}
        self._linked = threading.Condition(self._lock)
        self.connections_opened = 0
        self._server: Server | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------

    def _ensure_started(self) -> Server:
        with self._lock:
            if self._server is None:
                self._stopping.clear()
                self._server = serve(
                    self._serve_link,
                    self.host,
                    0,
                    process_request=self._check_ticket,
                    compression=None,
                    max_size=MAX_ACK_BYTES,
                    close_timeout=1,
                    logger=logger,
                )
                self._threads = [
                    _daemon(self._server.serve_forever, "socket-mode-server"),
                    _daemon(self._pump, "socket-mode-pump"),
                ]
            return self._server

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            links = list(self._links.values())
        if server is None:
            return
        self._stopping.set()
        self.outbox.wake()
        for link in links:
            link.connection.close(GOING_AWAY, "the emulator stopped")
        server.shutdown()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self._ensure_started().socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/"

    # -- apps.connections.open and the handshake ------------------------------------------

    def open_connection(self, token: str, bot_token: str) -> JSON:
        """`apps.connections.open`: a one-time WebSocket URL for the app-level token."""
        if not token:
            raise ApiError("not_authed")
        if token == bot_token:
            raise ApiError("not_allowed_token_type")
        if not secrets.compare_digest(token, self.app_token):
            raise ApiError("invalid_auth")
        ticket = secrets.token_hex(16)
        url = self.url
        now = self._clock()
        with self._lock:
            # Tickets nobody used expire; keep only the live ones.
            self._tickets = {t: end for t, end in self._tickets.items() if end > now}
            self._tickets[ticket] = now + TICKET_TTL
        return {"url": f"{url}?ticket={ticket}&app_id={self._backend.workspace.app.id}"}

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        ticket = (parse_qs(url.query).get("ticket") or [""])[0]
        with self._lock:
            expires = self._tickets.pop(ticket, None)  # a ticket works once
        if url.path != "/link/" or expires is None or self._clock() > expires:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")
        return None

    # -- connections ----------------------------------------------------------------------

    def _serve_link(self, connection: ServerConnection) -> None:
        with self._lock:
            self.connections_opened += 1
            link = _Link(self.connections_opened, connection, threading.Lock())
            self._links[link.id] = link
            count = len(self._links)
        try:
            link.send(self._hello(count))
            with self._linked:
                self._linked.notify_all()
            self.outbox.wake()  # envelopes waiting for a connection go out now
            for raw in connection:
                self._on_message(link, raw)
        except ConnectionClosed:
            pass
        finally:
            with self._linked:
                self._links.pop(link.id, None)
                self._linked.notify_all()
            self.outbox.link_closed(link.id)

    def _hello(self, count: int) -> JSON:
        return {
            "type": "hello",
            "num_connections": count,
            "debug_info": {
                "host": "applink-emulator",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self._backend.workspace.app.id},
        }

    def _on_message(self, link: _Link, raw: str | bytes) -> None:
        try:
            message: Any = json.loads(raw)
        except ValueError:
            logger.warning("socket mode: connection %d sent something that is not JSON", link.id)
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        if not isinstance(envelope_id, str):
            logger.warning("socket mode: connection %d sent a message without envelope_id", link.id)
            return
        payload = message.get("payload")
        self.outbox.acknowledge(envelope_id, payload if isinstance(payload, dict) else None)

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._links)

    def wait_for_connection(self, *, newer_than: int = 0, timeout: float = 30.0) -> bool:
        """Wait until a connection is open (and greeted) whose number is above `newer_than`
        (`connections_opened` before the connection was dropped, say)."""
        with self._linked:
            return self._linked.wait_for(lambda: any(i > newer_than for i in self._links), timeout)

    # -- what Slack does to connections ---------------------------------------------------

    def drop(self) -> None:
        """Close every connection now, as Slack does when a server goes away."""
        with self._lock:
            links = list(self._links.values())
        for link in links:
            link.connection.close(GOING_AWAY, "server going away")

    def disconnect(
        self, reason: str = "refresh_requested", *, grace: float = DISCONNECT_GRACE
    ) -> None:
        """Ask every connection to move (a `disconnect` message); all but `warning` are
        closed after `grace` seconds unless the app closed them first."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"reason must be one of {', '.join(DISCONNECT_REASONS)}")
        with self._lock:
            links = list(self._links.values())
        for link in links:
            link.asked_to_move = True
            if reason != "warning":
                link.close_at = self._clock() + grace
            with contextlib.suppress(ConnectionClosed):
                link.send(
                    {
                        "type": "disconnect",
                        "reason": reason,
                        "debug_info": {"host": "applink-emulator"},
                    }
                )
        self.outbox.wake()

    def lose_acks(self, count: int = 1) -> None:
        """The next `count` acks are lost on the way: Slack retries those envelopes."""
        self.outbox.lose_acks(count)

    # -- delivery -------------------------------------------------------------------------

    def send(
        self, kind: EnvelopeType, payload: JSON, *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> Envelope:
        """Queue an envelope for the app; it goes out at once if a connection is open."""
        self._ensure_started()
        return self.outbox.add(
            kind, payload, retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    def sends(self, envelope_id: str | None = None) -> list[Sent]:
        """Every send so far (of one envelope), oldest first."""
        return self.outbox.sends_of(envelope_id)

    def delivery(self, ack_timeout: float = 3.0) -> SocketDelivery:
        return SocketDelivery(self, self._backend.state, ack_timeout)

    def _pump(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                links = dict(self._links)
            staying = [i for i, link in links.items() if not link.asked_to_move]
            sends, ack_due, generation = self.outbox.due(sorted(staying or links))
            for _, message, link_id in sends:
                try:
                    links[link_id].send(message)
                except ConnectionClosed:
                    self.outbox.link_closed(link_id)
            waits = [w for w in (ack_due, self._close_overdue(links.values())) if w is not None]
            self.outbox.wait(max(min(waits), 0.01) if waits else None, generation)

    def _close_overdue(self, links: Iterable[_Link]) -> float | None:
        """Close the connections whose grace after a `disconnect` is over; the seconds until
        the next one is (None: no connection is on notice)."""
        now, next_due = self._clock(), None
        for link in links:
            if link.close_at is None:
                continue
            left = link.close_at - now
            if left <= 0:
                link.close_at = None
                # Closing waits for the app's close frame; the pump must not.
                _daemon(functools.partial(link.connection.close, GOING_AWAY), "socket-close")
            else:
                next_due = left if next_due is None else min(next_due, left)
        return next_due


class SocketDelivery:
    """Envelopes over Socket Mode, each waited for like an HTTP request: the ack, or status 0
    after `ack_timeout` (the envelope itself stays queued and is retried)."""

    def __init__(self, socket_mode: SocketMode, state: State, ack_timeout: float) -> None:
        self._socket_mode = socket_mode
        self._state = state
        self._ack_timeout = ack_timeout

    def deliver(
        self,
        kind: EnvelopeType,
        payload: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SignedResponse:
        envelope = self._socket_mode.send(
            kind,
            payload,
            retry_attempt=retry_num or 0,
            retry_reason=(retry_reason or RETRY_REASON) if retry_num else "",
        )
        with self._state.busy():
            if not envelope.acked.wait(self._ack_timeout):
                return NO_ANSWER
        return ack_response(envelope.ack)

    def close(self) -> None:
        """Nothing to release: the connections belong to the emulator."""


def _daemon(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
