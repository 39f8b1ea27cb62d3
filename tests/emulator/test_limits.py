"""Rate limits and injected faults, as slack_sdk's retry handlers see them."""

from __future__ import annotations

import time

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.emulator import Emulator, RateLimits
from bot.emulator.limits import Faults, RateLimiter, Window
from tests.clock import Clock


def test_tier_allowance_then_retry_after_until_the_window_frees() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits.slack(), clock.timestamp)

    assert all(limiter.check("users.list") is None for _ in range(20))  # Tier 2
    clock.advance(seconds=15.2)
    assert limiter.check("users.list") == 45
    clock.advance(seconds=44.8)
    assert limiter.check("users.list") is None


def test_post_message_is_limited_per_channel_with_a_burst() -> None:
    limiter = RateLimiter(RateLimits.slack(), Clock().timestamp)

    assert [limiter.check("chat.postMessage", "C1") for _ in range(6)] == [None] * 5 + [5]
    assert limiter.check("chat.postMessage", "C2") is None


def test_workspace_cap_applies_across_channels() -> None:
    limiter = RateLimiter(RateLimits(workspace=Window(3, 60.0)), Clock().timestamp)

    results = [limiter.check("chat.postMessage", f"C{i}") for i in range(4)]

    assert results == [None, None, None, 60]


def test_scaled_limits_recover_quickly_over_http() -> None:
    limits = RateLimits(methods={"users.info": Window(2, 60.0)}).scaled(0.005)
    with Emulator(rate_limits=limits) as emu:
        client = WebClient(token=emu.bot_token, base_url=emu.api_url)
        client.users_info(user="U0BOB")
        client.users_info(user="U0BOB")
        with pytest.raises(SlackApiError) as info:
            client.users_info(user="U0BOB")
        assert info.value.response.status_code == 429
        assert info.value.response.headers["Retry-After"] == "1"
        assert info.value.response["error"] == "ratelimited"
        time.sleep(0.35)
        assert client.users_info(user="U0BOB")["ok"]


def test_retry_handler_recovers_from_an_injected_429(emulator: Emulator) -> None:
    client = WebClient(
        token=emulator.bot_token,
        base_url=emulator.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    emulator.faults.inject("chat.postMessage", "rate_limited", retry_after=0)

    response = client.chat_postMessage(channel="C0GENERAL", text="after retry")

    assert response["ok"]
    assert [c.status for c in emulator.calls("chat.postMessage")] == [429, 200]
    assert [m.text for m in emulator.messages("general")] == ["after retry"]


def test_server_error_fault_answers_5xx_the_given_number_of_times(
    emulator: Emulator, client: WebClient
) -> None:
    emulator.faults.inject("users.info", "server_error", times=2, status=503)

    statuses = []
    for _ in range(3):
        try:
            statuses.append(client.users_info(user="U0BOB").status_code)
        except SlackApiError as exc:
            statuses.append(exc.response.status_code)
    assert statuses == [503, 503, 200]


def test_timeout_fault_holds_the_connection_then_drops_it(emulator: Emulator) -> None:
    emulator.faults.inject("auth.test", "timeout", hold=0.3)
    started = time.monotonic()

    with pytest.raises(httpx.TimeoutException):
        httpx.post(
            emulator.api_url + "auth.test",
            timeout=0.1,
            headers={"Authorization": f"Bearer {emulator.bot_token}"},
        )
    with pytest.raises(httpx.RemoteProtocolError):
        emulator.faults.inject("auth.test", "timeout", hold=0.05)
        httpx.post(
            emulator.api_url + "auth.test",
            timeout=2.0,
            headers={"Authorization": f"Bearer {emulator.bot_token}"},
        )
    assert time.monotonic() - started < 2.0


def test_random_faults_are_reproducible_with_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.inject("*", "rate_limited", probability=0.3)
        return [faults.take("users.info") is not None for _ in range(200)]

    first = pattern(7)
    assert first == pattern(7)
    assert 30 < sum(first) < 90


def test_faults_can_be_injected_over_http(emulator: Emulator, client: WebClient) -> None:
    reply = httpx.post(
        emulator.base_url + "/_emulator/faults",
        json={"method": "users.info", "kind": "rate_limited", "retry_after": 7},
    )
    bad = httpx.post(emulator.base_url + "/_emulator/faults", json={"method": "x", "kind": "boom"})

    assert reply.json()["ok"] and bad.status_code == 400
    with pytest.raises(SlackApiError) as info:
        client.users_info(user="U0BOB")
    assert info.value.response.headers["Retry-After"] == "7"
