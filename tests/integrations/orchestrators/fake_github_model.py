"""The fake GitHub's runs, its answers and its HTTP handler (see `fake_github`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

REPOSITORY = "acme/platform-envs"
APPLY, DESTROY = "environment-apply.yml", "environment-destroy.yml"
FIXED_INPUTS = ("name", "team", "tier", "template", "request_id")
STEPS = {
    APPLY: ("Set up job", "Check out", "terraform init", "terraform apply", "Upload outputs"),
    DESTROY: ("Set up job", "Check out", "terraform destroy"),
}
_FAILING_STEP = 4


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeRun:
    id: int
    number: int
    workflow: str
    ref: str
    title: str
    inputs: dict[str, str]
    created_at: datetime
    outcome: str
    polls: int = 0
    cancelled: bool = False
    artifact: bytes | None = None

    @property
    def status(self) -> str:
        if self.cancelled or self.polls > len(STEPS[self.workflow]):
            return "completed"
        return "queued" if self.polls == 0 else "in_progress"

    @property
    def conclusion(self) -> str | None:
        if self.status != "completed":
            return None
        return "cancelled" if self.cancelled else self.outcome

    job_status = status

    @property
    def job_name(self) -> str:
        return "apply" if self.workflow == APPLY else "destroy"

    def steps(self) -> list[tuple[str, str, str | None]]:
        names = STEPS[self.workflow]
        at = len(names) + 1 if self.status == "completed" and not self.cancelled else self.polls
        failing = _FAILING_STEP if self.conclusion in ("failure", "timed_out") else None
        result: list[tuple[str, str, str | None]] = []
        for number, name in enumerate(names, start=1):
            if failing is not None:
                ended = (
                    "success" if number < failing else "failure" if number == failing else "skipped"
                )
                result.append((name, "completed", ended))
            elif number < at:
                result.append((name, "completed", "success"))
            elif number == at:
                result.append(
                    (
                        name,
                        "completed" if self.cancelled else "in_progress",
                        "cancelled" if self.cancelled else None,
                    )
                )
            else:
                result.append(
                    (
                        name,
                        "completed" if self.cancelled else "queued",
                        "skipped" if self.cancelled else None,
                    )
                )
        return result


def error(status: int, message: str) -> Answer:
    return Answer(status, {"message": message, "documentation_url": "https://docs.github.com/rest"})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; without this each answer waits for a delayed ACK.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = httpx.Headers(list(self.headers.items()))
        answer = self.server.fake.handle(self.command, self.path, headers, body)  # type: ignore[attr-defined]
        if isinstance(answer.body, bytes):
            payload = answer.body
        elif answer.body is None:
            payload = b""
        else:
            payload = json.dumps(answer.body).encode()
            answer.headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
