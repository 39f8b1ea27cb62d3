"""A load generator for signed Slack requests.

`clients` concurrent clients (spread over a few processes so the generator's own GIL does
not become the bottleneck) send requests for `duration` seconds: on a closed loop each sends
the next as soon as the last is answered; on an open loop at a fixed rate. Every request is
signed exactly as Slack signs it.
"""

from __future__ import annotations

import dataclasses
import functools
import http.client
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable
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


def slash_commands(text: str, users: list[str], n: int) -> str:
    """The `n`th `/platform TEXT` of a client, from the users in turn."""
    return slash_command_body(text, users[n % len(users)], n)


@dataclass(frozen=True)
class _Plan:
    url: str
    secret: str
    body_for: Callable[[int], str]
    """The body of a client's `n`th request (a module-level function or a partial of one,
    so that it reaches the load processes)."""
    until: float
    interval: float | None
    """Seconds between a client's requests on an open loop; None: the next as soon as the
    last is answered (closed loop)."""
    clients: int
    rejected: bytes | None
    """An answer that holds these bytes counts as an error (a modal's field errors)."""


def _client(plan: _Plan, offset: float, out: list[float | None]) -> None:
    parts = urlsplit(plan.url)
    verifier = SignatureVerifier(plan.secret)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    n = 0
    due = time.perf_counter() + offset
    while time.monotonic() < plan.until:
        n += 1
        body = plan.body_for(n)
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
        }
        if plan.interval is not None:
            # Latency counts from when the request was due, not when it could be sent, so a
            # slow answer that delays the next request is not hidden (coordinated omission).
            time.sleep(max(0.0, due - time.perf_counter()))
            started, due = due, due + plan.interval
        else:
            started = time.perf_counter()
        try:
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            ok = response.status == 200 and (plan.rejected is None or plan.rejected not in answer)
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        out.append((time.perf_counter() - started) * 1000 if ok else None)
    conn.close()


def _process(args: tuple[_Plan, int, int]) -> list[float | None]:
    plan, first, threads = args
    results: list[float | None] = []
    # On an open loop the clients start 1/rate apart, so the requests arrive evenly.
    stagger = (plan.interval or 0.0) / plan.clients
    workers = [
        threading.Thread(
            target=_client,
            args=(
                dataclasses.replace(plan, body_for=_numbered(plan, first + i)),
                (first + i) * stagger,
                results,
            ),
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def _numbered(plan: _Plan, client: int) -> Callable[[int], str]:
    # Each client's requests are numbered apart from the others', so bodies stay unique.
    return functools.partial(_nth, plan.body_for, client)


def _nth(body_for: Callable[[int], str], client: int, n: int) -> str:
    return body_for(client * 1_000_000 + n)


def run_bodies(
    url: str,
    secret: str,
    body_for: Callable[[int], str],
    *,
    clients: int = 20,
    duration: float = 10.0,
    processes: int = 4,
    rate: float | None = None,
    rejected: bytes | None = None,
) -> LoadResult:
    """`clients` clients for `duration` seconds, each sending `body_for(n)` signed.

    Closed loop by default; with `rate`, an open loop of `rate` requests per second in all,
    spread evenly over the clients (a request late because its client still waits for an
    answer counts its wait).
    """
    per_process = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    started = time.monotonic()
    plan = _Plan(
        url=url,
        secret=secret,
        body_for=body_for,
        until=started + duration,
        interval=clients / rate if rate else None,
        clients=clients,
        rejected=rejected,
    )
    firsts = [sum(per_process[:i]) for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        chunks = pool.map(
            _process, [(plan, first, n) for first, n in zip(firsts, per_process, strict=True) if n]
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
    """`run_bodies` of `/platform TEXT` from `users` in turn."""
    return run_bodies(
        url,
        secret,
        functools.partial(slash_commands, text, users),
        clients=clients,
        duration=duration,
        processes=processes,
    )
