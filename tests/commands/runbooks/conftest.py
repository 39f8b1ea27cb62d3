"""The runbooks feature on the real app, driven through the emulator, with a real local HTTP
server for HTTP steps and real programs (echo, false) for command steps."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.core.config import PolicyRule
from bot.emulator.state import Message, View
from bot.runtime.config import PlatformConfig
from commands.runbooks.config import HttpSettings, RunbooksSection
from commands.runbooks.feature import Runbooks
from commands.runbooks.ids import CallbackId
from commands.runbooks.models import RunbookRun
from tests.harness import BotHarness, running_bot
from tests.harness import example_config as platform_example

BOB = "U0BOB"  # payments
CAROL = "U0CAROL"  # payments lead
ALICE = "U0ALICE"  # admin
SECRET = "tok-4f9c2a7e1b3d5a8c"
PLATFORM = "C0PLATFORM"


@dataclass
class Seen:
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: str = '{"ok": true}'


class _Handler(BaseHTTPRequestHandler):
    seen: Seen

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self.seen.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": json.loads(body or "null")}
        )
        answer = self.seen.body.replace("{auth}", self.headers.get("Authorization", ""))
        data = answer.encode()
        self.send_response(self.seen.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[str, Seen]]:
    """A real HTTP server on 127.0.0.1 that records requests and answers `Seen.body`."""
    seen = Seen()
    handler = type("Handler", (_Handler,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def runbook_config(directory: Path, *rules: PolicyRule) -> PlatformConfig:
    config = platform_example()
    section = RunbooksSection(
        directory=directory,
        commands=["echo", "false", "/bin/sh"],
        http=HttpSettings(timeout_seconds=5, allowed_hosts=["127.0.0.1"]),
        secrets={"DEPLOY_TOKEN": SecretStr(SECRET)},
        output_chars=200,
    )
    return config.model_copy(update={"runbooks": section, "policies": [*rules, *config.policies]})


@dataclass
class RunbookBot:
    bot: BotHarness

    @property
    def api(self) -> Runbooks:
        api = self.bot.feature("runbooks")
        assert isinstance(api, Runbooks)
        return api

    def open_form(self, user: str, text: str) -> View:
        state = self.bot.emulator.state
        state.clear_views(user)
        assert self.bot.signer.slash_command(user, text).status == 200
        assert self.bot.emulator.wait_for(lambda: bool(state.modal_stack(user)))
        view = state.modal_stack(user)[-1]
        assert view.spec.get("callback_id") == CallbackId.FORM, view.spec
        return view

    def submit(self, user: str, view: View, **params: Any) -> Any:
        values = {f"param_{k}": {"runbook_field": v} for k, v in params.items()}
        return self.bot.signer.view_submission(user, view.id, values)

    def runs(self) -> list[RunbookRun]:
        with self.bot.services.sessions() as session:
            from sqlalchemy import select

            return list(session.scalars(select(RunbookRun).order_by(RunbookRun.id)))

    def wait_run(self, status: str, timeout: float = 30) -> RunbookRun:
        def reached() -> bool:
            return any(run.status == status for run in self.runs())

        assert self.bot.emulator.wait_for(reached, timeout=timeout), [
            (r.status, r.failure) for r in self.runs()
        ]
        return [run for run in self.runs() if run.status == status][-1]

    def dm(self, user: str) -> list[Message]:
        return self.bot.dm_messages(user)

    def told(self, user: str, text: str, timeout: float = 15) -> str:
        """`user`'s DM once `text` is in it (the thread's last message follows the row)."""
        assert self.bot.emulator.wait_for(lambda: text in self.dm_text(user), timeout=timeout), (
            self.dm_text(user)
        )
        return self.dm_text(user)

    def dm_text(self, user: str) -> str:
        return "\n".join(m.text + json.dumps(m.blocks) for m in self.dm(user))


@pytest.fixture
def runbook_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    return directory


def start_bot(tmp_path: Path, schema: Path, config: PlatformConfig) -> Any:
    return running_bot(tmp_path, config=config, schema=schema, capture_logs=True)
