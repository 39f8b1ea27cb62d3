"""The front door of a real `platform-bot serve` (gunicorn, logging configured as in production)
holds against what anyone on the internet can send to /slack/events."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.emulator import Emulator, SlackSigner
from tests.conftest import REPO_ROOT, free_port
from tests.core.polling import wait_until
from tests.runtime.slack_traffic import EXPECTED_STATUS, FORM, MALFORMED, MARKER, Traffic

pytestmark = pytest.mark.slow


def _healthy_or_exited(base: str, server: subprocess.Popen[bytes]) -> bool:
    if server.poll() is not None:
        return True
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Traffic, Path]]:
    """`platform-bot serve` on the example config at INFO; its traffic and its log file."""
    directory = tmp_path_factory.mktemp("serve")
    with Emulator(rate_limits=None) as emulator:
        env = {
            **os.environ,
            "SLACK_API_URL": emulator.api_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": emulator.signing_secret,
            "DATABASE_URL": f"sqlite:///{directory / 'bot.db'}",
            "PLATFORM_CONFIG": str(REPO_ROOT / "platform.example.yaml"),
            "LOG_LEVEL": "INFO",
        }
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True, timeout=60)
        port, log = free_port(), directory / "serve.log"
        command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
        with log.open("w") as stream:
            server = subprocess.Popen(command, env=env, stderr=stream)
        base = f"http://127.0.0.1:{port}"
        signer = SlackSigner(emulator, f"{base}/slack/events", emulator.signing_secret)
        try:
            assert wait_until(lambda: _healthy_or_exited(base, server), timeout=30, step=0.2)
            assert server.poll() is None, log.read_text()
            yield Traffic(f"{base}/slack/events", emulator.signing_secret, signer), log
        finally:
            signer.close()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def test_after_an_unsigned_64_kb_body_help_answers_within_3_seconds(
    served: tuple[Traffic, Path],
) -> None:
    traffic, log = served
    # One letter, 64 KB: the kind of text that once took the log scrubber minutes.
    body = b"a" * (64 * 1024)
    assert traffic.post(body, {"Content-Type": FORM}, timeout=3).status_code == 401
    response = traffic.signer.slash_command("U0ALICE", "help")  # the signer waits 3 s at most
    assert response.status == 200
    assert "/platform whoami" in str(response.json["blocks"])
    assert httpx.get(traffic.app_url.replace("/slack/events", "/healthz"), timeout=1).text == "ok\n"
    assert "a" * 100 not in log.read_text()


def test_an_8_mb_body_gets_413_before_it_is_sent(served: tuple[Traffic, Path]) -> None:
    traffic, _ = served
    assert traffic.status_line_for_headers_only(8 * 1024 * 1024).split()[1] == b"413"


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_malformed_bodies_get_4xx_and_never_reach_the_log(
    served: tuple[Traffic, Path], signed: bool
) -> None:
    traffic, log = served
    for case, (body, content_type) in MALFORMED.items():
        response = traffic.post(body, traffic.headers(body, content_type, signed=signed))
        assert response.status_code == EXPECTED_STATUS[case][0 if signed else 1], case
    text = log.read_text()
    assert MARKER not in text
    assert "Traceback" not in text


def test_metrics_do_not_grow_with_junk_requests(served: tuple[Traffic, Path]) -> None:
    traffic, _ = served
    rng = random.Random(7)
    traffic.send_junk(rng)
    before = traffic.series()
    typed = [word for _ in range(67) for word in traffic.send_junk(rng)]
    after = traffic.series()
    assert after == before
    assert not [word for word in typed if word in "\n".join(after)]
