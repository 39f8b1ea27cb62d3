"""A closed-loop load generator for signed slash commands.

`clients` concurrent clients (spread over a few processes so the generator's own GIL does
not become the bottleneck) each send a request, wait for the answer, and send the next,
for `duration` seconds. Every request is signed exactly as Slack signs it.
"""

from __future__ import annotations

import http.client
import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return self.percentile(99)


def slash_command_body(text: str, user_id: str, n: int) -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": "T0PLATFORM",
            "team_domain": "acme",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/platform",
            "text": text,
            "api_app_id": "A0PLATFORM",
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": f"bench.{n}.{time.monotonic_ns()}",
        }
    )


def _client(url: str, secret: str, text: str, users: list[str], until: float, out: list) -> None:  # type: ignore[type-arg]
    parts = urlsplit(url)
    verifier = SignatureVerifier(secret)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    n = 0
    while time.monotonic() < until:
        n += 1
        body = slash_command_body(text, users[n % len(users)], n)
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
        }
        started = time.perf_counter()
        try:
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        out.append((time.perf_counter() - started) * 1000 if ok else None)
    conn.close()


def _process(args: tuple[str, str, str, list[str], int, float]) -> list[float | None]:
    url, secret, text, users, threads, until = args
    results: list[float | None] = []
    workers = [
        threading.Thread(target=_client, args=(url, secret, text, users, until, results))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def run_load(
    url: str,
    secret: str,
    *,
    text: str,
    users: list[str],
    clients: int = 20,
    duration: float = 10.0,
    processes: int = 4,
) -> LoadResult:
    per_process = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    started = time.monotonic()
    until = started + duration
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        chunks = pool.map(
            _process, [(url, secret, text, users, n, until) for n in per_process if n]
        )
    seconds = time.monotonic() - started
    samples = [s for chunk in chunks for s in chunk]
    latencies = [s for s in samples if s is not None]
    return LoadResult(
        requests=len(latencies),
        errors=len(samples) - len(latencies),
        seconds=seconds,
        latencies_ms=latencies,
    )
