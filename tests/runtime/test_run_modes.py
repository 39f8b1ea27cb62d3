"""`platform-bot serve` under gunicorn and `platform-bot shell` from a script (over either
transport), as processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.emulator import Emulator, SlackSigner
from tests.conftest import REPO_ROOT, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(rate_limits=None) as running:
        yield running


def _env(emulator: Emulator, database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_API_URL": emulator.api_url,
        "SLACK_BOT_TOKEN": emulator.bot_token,
        "SLACK_SIGNING_SECRET": emulator.signing_secret,
        "DATABASE_URL": f"sqlite:///{database}",
        "PLATFORM_CONFIG": str(REPO_ROOT / "platform.example.yaml"),
    }


def test_serve_answers_slack_under_gunicorn_and_stops_on_sigterm(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = _env(emulator, tmp_path / "bot.db")
    subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True, timeout=60)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as stream:
        server = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stderr=stream,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.2)
        signer = SlackSigner(emulator, f"{base}/slack/events", emulator.signing_secret)
        response = signer.slash_command("U0ALICE", "help")
        signer.close()
        assert response.status == 200
        assert "/platform whoami" in str(response.json["blocks"])
        assert httpx.get(f"{base}/readyz").status_code == 200
        assert "platform_bot_ack_seconds_bucket" in httpx.get(f"{base}/metrics").text
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    assert "Booting worker with pid" in log.read_text()


@pytest.mark.parametrize("transport", ["http", "socket"])
def test_shell_is_scriptable_from_stdin(tmp_path: Path, transport: str) -> None:
    script = "/platform help\n:as erin\n/platform whoami\n/platform hepl\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell", "--transport", transport],
        input=script,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'shell.db'}"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "ACME PLATFORM IN SLACK" in out
    assert "Example: `/platform whoami`" in out
    assert "Erin Guest" in out
    assert "Guests cannot run actions that change things." in out
    assert "Did you mean `/platform help`?" in out
    assert "Traceback" not in result.stderr
