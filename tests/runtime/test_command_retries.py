"""Slack's retries of `/platform` requests: told what the first run answered, never run twice.

Slack resends a command it did not see acknowledged within 3 s, with `X-Slack-Retry-Num` and
the same trigger id. The requests here are signed as Slack signs them and sent over HTTP to
the real app; the retry's answer is what the person sees, since the first one timed out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import router_views
from bot.emulator import SignedResponse
from tests.core.polling import wait_until
from tests.harness import BotHarness
from tests.runtime.probe import Probe, probe_bot


@pytest.fixture
def running(tmp_path: Path, migrated_schema: Path) -> Iterator[tuple[BotHarness, Probe]]:
    with probe_bot(tmp_path, schema=migrated_schema) as running:
        yield running


def _command(bot: BotHarness, text: str, *, user: str = "U0BOB") -> dict[str, str]:
    """The fields of one `/platform` request as Slack sends it (sent again on a retry)."""
    emulator = bot.emulator
    return {
        "team_id": "T0PLATFORM",
        "channel_id": "C0GENERAL",
        "user_id": user,
        "user_name": "bob",
        "command": "/platform",
        "text": text,
        "api_app_id": "A0PLATBOT",
        "response_url": emulator.mint_response_url("C0GENERAL", user),
        "trigger_id": emulator.mint_trigger_id(user),
    }


def _finished(bot: BotHarness, fields: dict[str, str]) -> bool:
    key = f"command:{fields['trigger_id']}"
    return bot.services.idempotency.result(key) is not None


def _answer(response: SignedResponse) -> str:
    assert response.status == 200
    return str(response.json["text"] if response.json else response.body)


def test_a_retry_after_the_first_run_answered_is_told_that_answer(
    running: tuple[BotHarness, Probe],
) -> None:
    bot, probe = running
    fields = _command(bot, "change")
    first = bot.signer.send(fields)
    assert wait_until(lambda: _finished(bot, fields))

    retry = bot.signer.send(fields, retry_num=1)
    second_retry = bot.signer.send(fields, retry_num=2)

    assert _answer(first) == "Changed 1 time(s)."
    assert _answer(retry) == _answer(second_retry) == "Changed 1 time(s)."
    assert probe.runs == ["change"]


def test_a_retry_while_the_first_run_is_still_going_is_told_it_is_already_running(
    running: tuple[BotHarness, Probe],
) -> None:
    bot, probe = running
    probe.hold = threading.Event()
    fields = _command(bot, "change")
    try:
        first = bot.signer.send(fields)
        retry = bot.signer.send(fields, retry_num=1)
    finally:
        probe.hold.set()

    assert _answer(first) == "Changed 1 time(s)."
    assert _answer(retry) == router_views.ALREADY_RUNNING
    assert wait_until(lambda: _finished(bot, fields))
    assert _answer(bot.signer.send(fields, retry_num=2)) == "Changed 1 time(s)."
    assert probe.runs == ["change"]


def test_a_retry_of_a_refused_request_is_told_the_same_refusal(
    running: tuple[BotHarness, Probe],
) -> None:
    bot, probe = running
    probe.failures["change"] = RuntimeError("the provider timed out")
    fields = _command(bot, "change")
    first = _answer(bot.signer.send(fields))
    assert wait_until(lambda: _finished(bot, fields))

    retry = _answer(bot.signer.send(fields, retry_num=1))

    assert "reference `" in first
    assert retry == first
    assert probe.runs == ["change"]


def test_each_new_request_runs(running: tuple[BotHarness, Probe]) -> None:
    bot, _ = running

    answers = [_answer(bot.signer.send(_command(bot, "change"))) for _ in range(2)]

    assert answers == ["Changed 1 time(s).", "Changed 2 time(s)."]
