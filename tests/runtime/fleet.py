"""A small deployment as real processes: the Slack emulator, `serve` replicas and workers.

Every member is its own OS process started the way an operator starts it (`platform-bot
serve` under gunicorn, `platform-bot worker`), with its log in a file, so a test can
`kill -9` one and read what the others did. The emulator runs in its own process too
(benchmarks/emulator_process.py) and is read through its control API.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import REPO_ROOT, free_port

LEADER_GAUGE = "platform_bot_scheduler_leader 1.0"


@dataclass(frozen=True)
class SlackProcess:
    """The emulator's process: where the bot reaches it and what it recorded."""

    api_url: str
    bot_token: str
    signing_secret: str

    @property
    def control(self) -> str:
        return self.api_url.removesuffix("/api/") + "/_emulator"

    def posts(self) -> list[dict[str, Any]]:
        """The params of every chat.postMessage the emulator carried out, oldest first."""
        calls = httpx.get(
            f"{self.control}/calls", params={"method": "chat.postMessage"}, timeout=60
        ).json()["calls"]
        return [c["params"] for c in calls if c["status"] == 200 and c["error"] is None]


@contextmanager
def slack_process(users: int, scale: float, seed: int) -> Iterator[SlackProcess]:
    """The emulator with `users` synthetic people beside the fixture's, Slack's limits with
    every window scaled by `scale`."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.emulator_process",
            str(users),
            str(scale),
            str(seed),
            "beside-fixture",
        ],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield SlackProcess(**json.loads(process.stdout.readline()))
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        process.wait(timeout=30)
        process.stdout.close()


@dataclass
class Member:
    """One process of the deployment; `port` is serve's HTTP port or a worker's probes."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def get(self, path: str) -> httpx.Response | None:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=2)
        except httpx.HTTPError:
            return None

    def ready(self) -> bool:
        answer = self.get("/readyz")
        return answer is not None and answer.status_code == 200

    def leads(self) -> bool:
        """Whether this worker runs the scheduler now, by its own gauge."""
        answer = self.get("/metrics")
        return answer is not None and LEADER_GAUGE in answer.text

    def logged(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Fleet:
    """Starts members with one environment; `close` stops the ones still running."""

    directory: Path
    env: dict[str, str]
    members: list[Member] = field(default_factory=list)

    def serve(self, name: str, *, threads: int = 8) -> Member:
        port = free_port()
        command = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        return self._start(name, [*command, "--threads", str(threads)], port)

    def worker(self, name: str) -> Member:
        port = free_port()
        return self._start(
            name, ["worker", "--host", "127.0.0.1", "--health-port", str(port)], port
        )

    def _start(self, name: str, arguments: list[str], port: int) -> Member:
        log = self.directory / f"{name}.log"
        with log.open("wb") as stream:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", *arguments],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=stream,
                stderr=subprocess.STDOUT,
            )
        member = Member(name, process, port, log)
        self.members.append(member)
        return member

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self.members)
        while waiting:
            for member in waiting:
                if not member.alive:
                    raise AssertionError(f"{member.name} exited:\n{member.logged()[-3000:]}")
            waiting = [m for m in waiting if not m.ready()]
            if time.monotonic() > deadline:
                names = ", ".join(m.name for m in waiting)
                raise AssertionError(f"not ready within {timeout} s: {names}")
            time.sleep(0.2)

    def close(self) -> None:
        running = [m for m in self.members if m.alive]
        for member in running:
            member.process.send_signal(signal.SIGTERM)
        for member in running:
            try:
                member.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(member.pid, signal.SIGKILL)
                member.process.wait(10)
