"""Survey fan-out: DM 10,000 people through the emulator at Slack's limits, with 429s.

The emulator enforces Slack's published limits with every window scaled by `SCALE` (a minute
lasts 60 x SCALE seconds), and answers 5% of chat.postMessage calls with a 429 at random. The
bot's pacer is configured with the same allowance and scale (`surveys.delivery`), and scales
each `Retry-After` the same way, so the run is the real minute-long dynamics played faster.

The bound: chat.postMessage allows `calls` per window for the workspace (each DM is its own
channel, so the per-channel limit never binds), so N DMs need at least
`(ceil(N / calls) - 1) x window` seconds: full windows, the last burst sent at its start.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import SecretStr

from bot.core.db import make_engine
from bot.emulator.limits import RateLimits
from bot.runtime.config import parse_config
from bot.runtime.schema import upgrade
from bot.runtime.services import Services, build_services
from bot.runtime.settings import Settings

USERS = 10_000
SCALE = 0.05
FAULT_PROBABILITY = 0.05
SENDERS = 16


@dataclass(frozen=True)
class FanoutResult:
    users: int
    delivered: int
    duplicates: int
    missing: int
    rate_limited: int
    post_calls: int
    audience_seconds: float
    seconds: float
    bound_seconds: float
    calls_per_window: int
    window_seconds: float

    @property
    def ratio(self) -> float:
        return self.seconds / self.bound_seconds


@contextmanager
def emulator_process(users: int, scale: float, seed: int) -> Iterator[dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.emulator_process", str(users), str(scale), str(seed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


def bench_services(database_url: str, emulator: dict[str, str], scale: float) -> Services:
    """The bot's services as the benchmark configures them (one per replica)."""
    window = RateLimits.slack().scaled(scale).workspace
    config = parse_config(
        f"""
surveys:
  delivery:
    messages_per_minute: {window.calls}
    senders: {SENDERS}
    time_scale: {scale}
    working_hours: {{start: "00:00", end: "23:59", days: [mon, tue, wed, thu, fri, sat, sun]}}
  campaigns:
    - name: bench
      schedule: "0 9 1 1 *"
      audience: {{kind: everyone}}
""",
        Path("bench.yaml"),
        {},
    )
    settings = Settings(
        database_url=database_url,
        slack_api_url=emulator["api_url"],
        slack_bot_token=SecretStr(emulator["bot_token"]),
        slack_signing_secret=SecretStr(emulator["signing_secret"]),
    )
    engine = make_engine(database_url)
    upgrade(engine)
    return build_services(settings, config, engine=engine, clock=lambda: datetime.now(UTC))


@contextmanager
def other_replica(
    database_url: str, emulator: dict[str, str], round_id: int
) -> Iterator[subprocess.Popen[str]]:
    """A second process with its own services, ready to fan the round out on "go"."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.fanout_replica",
            database_url,
            str(SCALE),
            str(round_id),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        _tell(process, json.dumps(emulator))
        if _hear(process) != "ready":
            raise RuntimeError("the second replica did not start")
        yield process
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=600)


def _tell(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


def _hear(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


def measure(
    database_url: str, *, users: int = USERS, scale: float = SCALE, replicas: int = 1
) -> FanoutResult:
    """One fan-out; with `replicas=2` a second process fans the same round out at once."""
    window = RateLimits.slack().scaled(scale).workspace
    with emulator_process(users, scale, seed=20261126) as emulator:
        control = emulator["api_url"].removesuffix("/api/") + "/_emulator"
        services = bench_services(database_url, emulator, scale)
        try:
            nps = services.feature("nps")
            round_ = nps.campaigns.run_now("bench", actor="benchmark")
            started = time.perf_counter()
            recipients = nps.fanout.prepare_round(round_.id)
            audience_seconds = time.perf_counter() - started
            fault = {
                "method": "chat.postMessage",
                "kind": "rate_limited",
                "probability": FAULT_PROBABILITY,
            }
            httpx.post(f"{control}/faults", json=fault, timeout=10).raise_for_status()
            with ExitStack() as stack:
                others = [
                    stack.enter_context(other_replica(database_url, emulator, round_.id))
                    for _ in range(replicas - 1)
                ]
                started = time.perf_counter()
                for other in others:
                    _tell(other, "go")
                nps.fanout.send_due(round_.id)
                for other in others:
                    if _hear(other) != "done":
                        raise RuntimeError("the second replica failed")
                seconds = time.perf_counter() - started
        finally:
            services.close()
        calls = httpx.get(
            f"{control}/calls", params={"method": "chat.postMessage"}, timeout=60
        ).json()["calls"]
    # The emulator posts a message exactly when it answers chat.postMessage with ok.
    posted = Counter(str(c["params"]["channel"]) for c in calls if c["status"] == 200)
    return FanoutResult(
        users=recipients,
        delivered=sum(1 for n in posted.values() if n == 1),
        duplicates=sum(1 for n in posted.values() if n > 1),
        missing=recipients - len(posted),
        rate_limited=sum(1 for c in calls if c["status"] == 429),
        post_calls=len(calls),
        audience_seconds=audience_seconds,
        seconds=seconds,
        bound_seconds=(math.ceil(recipients / window.calls) - 1) * window.seconds,
        calls_per_window=window.calls,
        window_seconds=window.seconds,
    )
