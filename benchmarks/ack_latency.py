"""Ack latency of `/platform help` at 20 concurrent clients, beside a bare Bolt app.

Both run under the same gunicorn configuration on this machine, in the same run, against
the same local Slack emulator; the bare app only acks. Budget (ARCHITECTURE §6):
p99 ≤ 50 ms and throughput ≥ 70 % of the bare app.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from cryptography.fernet import Fernet

from benchmarks.load import LoadResult, run_load
from bot.emulator import Emulator

WORKERS = 2
THREADS = 32
CLIENTS = 20
USERS = ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"]


@dataclass(frozen=True)
class AckLatency:
    bare: LoadResult
    bot: LoadResult

    @property
    def throughput_ratio(self) -> float:
        return self.bot.throughput / self.bare.throughput


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def _server(
    command: list[str], env: dict[str, str], probe: str
) -> Iterator[subprocess.Popen[bytes]]:
    """The server process, once `probe` answers; terminated on the way out."""
    process = subprocess.Popen(command, env=env)
    try:
        _wait_http(probe, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def measure(database_url: str, *, duration: float = 10.0, warmup: float = 3.0) -> AckLatency:
    with Emulator(rate_limits=None) as emulator:
        env = {
            **os.environ,
            "SLACK_API_URL": emulator.api_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": emulator.signing_secret,
            "DATABASE_URL": database_url,
            "PLATFORM_CONFIG": "platform.example.yaml",
            # Two gunicorn workers on PostgreSQL share one credential key.
            "PLATFORM_BOT_SECRET_KEY": Fernet.generate_key().decode(),
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True)
        bare_port, bot_port = _free_port(), _free_port()
        bare_cmd = [
            sys.executable, "-m", "benchmarks.bare_bolt", "--port", str(bare_port),
            "--signing-secret", emulator.signing_secret,
            "--workers", str(WORKERS), "--threads", str(THREADS),
        ]  # fmt: skip
        bot_cmd = [
            sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(bot_port),
            "--workers", str(WORKERS), "--threads", str(THREADS),
        ]  # fmt: skip
        results: dict[str, LoadResult] = {}
        for name, command, port, probe in (
            ("bare", bare_cmd, bare_port, "/slack/events"),
            ("bot", bot_cmd, bot_port, "/healthz"),
        ):
            with _server(command, env, f"http://127.0.0.1:{port}{probe}"):
                url = f"http://127.0.0.1:{port}/slack/events"
                run_load(url, emulator.signing_secret, text="help", users=USERS,
                         clients=CLIENTS, duration=warmup)  # fmt: skip
                results[name] = run_load(
                    url, emulator.signing_secret, text="help", users=USERS,
                    clients=CLIENTS, duration=duration,
                )  # fmt: skip
        return AckLatency(bare=results["bare"], bot=results["bot"])
