"""Fixtures for the emulator tests: a running emulator, a client for it, and app endpoints.

`recording_app` is a bare HTTP endpoint that records what the signer sends and answers with
queued responses, for checking Slack's wire format; `bolt_app` is a real Bolt app served over
HTTP (see demo_app.py) for end-to-end flows.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from slack_sdk import WebClient

from bot.emulator import Emulator, SlackSigner

REPO_ROOT = Path(__file__).resolve().parents[2]
SPECS_DIR = Path(os.environ.get("PLATFORM_BOT_SPECS_DIR", REPO_ROOT.parent / "shared" / "specs"))


@pytest.fixture
def specs_dir() -> Path:
    if not (SPECS_DIR / "slack_web_openapi_v2.json").is_file():
        pytest.skip(f"Slack specs not found in {SPECS_DIR}")
    return SPECS_DIR


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    spec_dir = SPECS_DIR if SPECS_DIR.is_dir() else None
    with Emulator(spec_dir=spec_dir, rate_limits=None) as emu:
        yield emu


@pytest.fixture
def client(emulator: Emulator) -> WebClient:
    return WebClient(token=emulator.bot_token, base_url=emulator.api_url)


@dataclass
class RecordedRequest:
    headers: dict[str, str]
    body: str

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body, keep_blank_values=True))

    @property
    def payload(self) -> dict[str, object]:
        parsed: dict[str, object] = json.loads(self.form["payload"])
        return parsed


@dataclass
class RecordingApp:
    """An app endpoint that records requests and replies with queued (status, type, body)."""

    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    replies: list[tuple[int, str, str]] = field(default_factory=list)

    def reply(self, body: object = "", status: int = 200) -> None:
        if isinstance(body, dict):
            self.replies.append((status, "application/json", json.dumps(body)))
        else:
            self.replies.append((status, "text/plain", str(body)))


@pytest.fixture
def recording_app() -> Iterator[RecordingApp]:
    app = RecordingApp()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            app.requests.append(RecordedRequest(dict(self.headers), raw.decode()))
            status, content_type, body = (
                app.replies.pop(0) if app.replies else (200, "text/plain", "")
            )
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    app.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield app
    server.shutdown()
    server.server_close()


@pytest.fixture
def signer(emulator: Emulator, recording_app: RecordingApp) -> Iterator[SlackSigner]:
    signer = SlackSigner(emulator, recording_app.url, emulator.signing_secret)
    yield signer
    signer.close()
