"""A local HTTP server that holds a fake API to its official OpenAPI document (test helper).

`SpecServer` answers on 127.0.0.1 from a route table of `(method, path regex, endpoint)`.
Before an endpoint runs, the request is checked with `Contract.check_request` (the operation
exists, its query parameters are declared) and its body against the operation's request
schema (JSON, present exactly when the operation takes one); a request that fails is
answered 400 and recorded in `violations`. Then the bearer token is checked (401) and any
queued fault (`fail_next`) answers instead of the endpoint. Every answer with a body is
validated against the operation's response schema for its status, or against the API's
error schema for statuses the operation does not document (401, 429, 5xx); a mismatch is a
violation too. Tests assert `violations == []`.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jsonschema

from tests.integrations.openapi_contract import Contract

Answer = tuple[int, Any, dict[str, str]]
Endpoint = Callable[[dict[str, str], Any], Answer]
ErrorBody = Callable[[int, str], Any]


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]


class SpecServer:
    def __init__(
        self,
        contract: Contract,
        *,
        routes: list[tuple[str, str, Endpoint]],
        token: str,
        error_body: ErrorBody,
        error_schema: dict[str, Any],
    ) -> None:
        self.contract, self.token = contract, token
        self.violations: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self._routes = routes
        self._error_body, self._error_schema = error_body, error_schema
        self._faults: list[Fault] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval: `shutdown` waits for one, at the end of every test.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
        return status, self._error_body(status, message), headers or {}

    def fail_next(
        self, method: str, path: str, status: int, *, times: int = 1, retry_after: str = ""
    ) -> None:
        """The next `times` requests whose path ends with the regex `path` answer `status`."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        with self.lock:
            self._faults.append(Fault(method, re.compile(path + "$"), status, times, headers))

    def serve(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Answer:
        request = httpx.Request(method, "http://fake" + raw_path, headers=headers, content=raw)
        path = request.url.path
        with self.lock:
            self.requests.append((method, path))
            try:
                operation = self.contract.check_request(request)
                body = self._checked_body(operation, request, raw)
            except (AssertionError, jsonschema.ValidationError, ValueError) as exc:
                self.violations.append(f"{method} {path}: {str(exc)[:300]}")
                return self.error(400, "The request does not follow the API.")
            if headers.get("authorization") != f"Bearer {self.token}":
                answer = self.error(401, "Could not validate token.")
            else:
                answer = self._fault(method, path) or self._route(method, path, body)
            self._check_answer(operation, f"{method} {path}", answer)
            return answer

    def _checked_body(self, operation: dict[str, Any], request: httpx.Request, raw: bytes) -> Any:
        if "requestBody" not in operation:
            assert not raw, "this operation takes no body"
            return None
        assert request.headers.get("content-type") == "application/json", "the body is not JSON"
        body = json.loads(raw)
        self.contract.validate(body, self.contract.request_schema(operation))
        return body

    def _fault(self, method: str, path: str) -> Answer | None:
        for fault in self._faults:
            if fault.method == method and fault.path.search(path) and fault.times > 0:
                fault.times -= 1
                return self.error(fault.status, "Injected by the test.", fault.headers)
        return None

    def _route(self, method: str, path: str, body: Any) -> Answer:
        for verb, pattern, endpoint in self._routes:
            found = re.fullmatch(pattern, path)
            if verb == method and found:
                return endpoint(found.groupdict(), body)
        self.violations.append(f"{method} {path}: in the spec but not implemented by the fake")
        return self.error(405, "Not implemented by the fake.")

    def _check_answer(self, operation: dict[str, Any], call: str, answer: Answer) -> None:
        status, body, _ = answer
        if body is None:
            return
        declared = operation["responses"].get(str(status))
        try:
            if declared is not None and "content" in self.contract.resolve(declared):
                self.contract.validate(body, self.contract.response_schema(operation, str(status)))
            else:
                self.contract.validate(body, self._error_schema)
        except jsonschema.ValidationError as exc:
            self.violations.append(f"{call} answered {status}: {exc.message[:300]}")


def _handler_for(server: SpecServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, extra = server.serve(self.command, self.path, headers, raw)
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tests read `requests` and `violations`, not stderr

    return Handler
