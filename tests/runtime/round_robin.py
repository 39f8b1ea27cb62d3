"""A round-robin HTTP proxy in front of `serve` replicas, as a load balancer stands there.

Each POST goes to the next replica in turn with its body and Slack's headers (the signature
covers the body, so it is passed through byte for byte) and the replica's answer comes back
unchanged. Test infrastructure: no health checks and no retries, like the simplest balancer.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

# What a replica needs of Slack's request and what the caller needs of the answer.
_REQUEST_HEADERS = (
    "Content-Type",
    "X-Slack-Request-Timestamp",
    "X-Slack-Signature",
    "X-Slack-Retry-Num",
    "X-Slack-Retry-Reason",
)
_ANSWER_HEADERS = ("Content-Type",)


class RoundRobinProxy:
    """Forwards POSTs to `backends` ("host:port") in turn; `answered` counts per backend."""

    def __init__(self, backends: Sequence[str], *, timeout: float = 10.0) -> None:
        if not backends:
            raise ValueError("the proxy needs at least one backend")
        self._next = itertools.cycle(backends)
        self._lock = threading.Lock()
        self._timeout = timeout
        self.answered: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="round-robin-proxy", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RoundRobinProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _pick(self) -> str:
        with self._lock:
            return next(self._next)

    def _forward(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        backend = self._pick()
        host, _, port = backend.rpartition(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=self._timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = {name: value for name in _ANSWER_HEADERS if (value := response.getheader(name))}
            with self._lock:
                self.answered[backend] += 1
            return response.status, kept, answer
        except (OSError, http.client.HTTPException):
            return 502, {"Content-Type": "text/plain"}, b"bad gateway\n"
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    name: value for name in _REQUEST_HEADERS if (value := self.headers.get(name))
                }
                status, answer_headers, answer = proxy._forward(self.path, body, headers)
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass  # one line per request would drown the test's output

        return Handler
