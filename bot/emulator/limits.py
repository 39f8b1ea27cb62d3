"""Web API rate limits and injected faults.

Slack evaluates limits per method and workspace in per-minute windows (tiers 1-4), and
`chat.postMessage` additionally at about one message per second per channel with a small
burst, under a workspace-wide cap. The emulator uses sliding windows so `Retry-After` is the
exact time until a slot frees, rounded up to whole seconds as Slack sends it.

Faults let tests reproduce what production sees: 5xx answers, connections that hang until the
client times out, and 429s, either a fixed number of times or at random with a seeded RNG.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

TIER_1, TIER_2, TIER_3, TIER_4 = 1, 20, 50, 100
DEFAULT_ALLOWANCE = TIER_3

METHOD_TIERS: Mapping[str, int] = {
    "auth.test": 600,
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "conversations.open": TIER_3,
    "conversations.info": TIER_3,
    "conversations.members": TIER_4,
    "conversations.list": TIER_2,
    "users.info": TIER_4,
    "users.list": TIER_2,
    "users.lookupByEmail": TIER_3,
    "usergroups.list": TIER_2,
    "usergroups.users.list": TIER_2,
    "views.open": TIER_4,
    "views.push": TIER_4,
    "views.update": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
}


@dataclass(frozen=True)
class Window:
    calls: int
    seconds: float


@dataclass(frozen=True)
class RateLimits:
    """Allowances per method; `per_channel` and `workspace` apply to chat.postMessage."""

    methods: Mapping[str, Window] = field(default_factory=dict)
    default: Window = Window(DEFAULT_ALLOWANCE, 60.0)
    per_channel: Window = Window(5, 5.0)
    workspace: Window = Window(600, 60.0)

    @classmethod
    def slack(cls) -> RateLimits:
        """Slack's published tiers (notes §4) with one-minute windows."""
        return cls(methods={m: Window(n, 60.0) for m, n in METHOD_TIERS.items()})

    def scaled(self, factor: float) -> RateLimits:
        """The same allowances in windows `factor` times as long (0.01: a minute lasts 0.6 s)."""
        return replace(
            self,
            methods={m: Window(w.calls, w.seconds * factor) for m, w in self.methods.items()},
            default=Window(self.default.calls, self.default.seconds * factor),
            per_channel=Window(self.per_channel.calls, self.per_channel.seconds * factor),
            workspace=Window(self.workspace.calls, self.workspace.seconds * factor),
        )

    def window(self, method: str) -> Window:
        return self.methods.get(method, self.default)


class RateLimiter:
    """Sliding-window counters; `check` admits a call or returns seconds to wait."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}

    def check(self, method: str, channel: str | None = None) -> int | None:
        """None when the call may proceed (and is counted), else the Retry-After seconds."""
        keys = [(method, self._limits.window(method))]
        if method == "chat.postMessage":
            keys = [("chat.postMessage", self._limits.workspace)]
            if channel:
                keys.append((f"chat.postMessage#{channel}", self._limits.per_channel))
        with self._lock:
            now = self._clock()
            waits = [self._wait(key, window, now) for key, window in keys]
            if any(w is not None for w in waits):
                return max(w for w in waits if w is not None)
            for key, _ in keys:
                self._calls[key].append(now)
            return None

    def _wait(self, key: str, window: Window, now: float) -> int | None:
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - window.seconds:
            calls.popleft()
        if len(calls) < window.calls:
            return None
        return max(1, math.ceil(calls[0] + window.seconds - now))


FaultKind = Literal["server_error", "timeout", "rate_limited"]


@dataclass
class Fault:
    method: str
    kind: FaultKind
    times: int | None = 1
    status: int = 500
    retry_after: int = 1
    probability: float | None = None
    hold: float | None = None

    def matches(self, method: str) -> bool:
        return self.method in ("*", method)


class Faults:
    """Faults to inject into Web API answers, consumed in the order they were added."""

    def __init__(self, seed: int | None = None, *, timeout_hold: float = 30.0) -> None:
        self.timeout_hold = timeout_hold
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def seed(self, seed: int) -> None:
        with self._lock:
            self._rng.seed(seed)

    def inject(
        self,
        method: str,
        kind: FaultKind,
        times: int = 1,
        status: int = 500,
        retry_after: int = 1,
        probability: float | None = None,
        hold: float | None = None,
    ) -> Fault:
        """Fail the next `times` calls of `method` ("*" for any); with `probability`, fail
        that share of calls at random, for as long as the fault is installed."""
        if kind not in ("server_error", "timeout", "rate_limited"):
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(
            method,
            kind,
            None if probability is not None else times,
            status,
            retry_after,
            probability,
            hold,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def inject_json(self, body: Mapping[str, Any]) -> Fault:
        """The control API's form of `inject` (same field names)."""
        allowed = {"method", "kind", "times", "status", "retry_after", "probability", "hold"}
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        return self.inject(**body)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str) -> Fault | None:
        """The fault to apply to this call, if any (counted fault first, then random ones)."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method):
                    continue
                if fault.probability is not None:
                    if self._rng.random() < fault.probability:
                        return fault
                    continue
                if fault.times is not None and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
            return None
