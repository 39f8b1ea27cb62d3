"""The whole app over real HTTP, with requests signed as Slack signs them (Slack tier)."""

from __future__ import annotations

import re
import time
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
from slack_bolt import App

from bot.core.db import make_engine
from bot.runtime.web import WebApp
from tests.harness import BotHarness
from tests.hostile import HOSTILE_TEXT, raw_markup_shown


def _ephemeral_texts(bot: BotHarness, user: str) -> list[str]:
    return [e.text + str(e.blocks) for e in bot.emulator.state.ephemerals(user)]


def test_help_over_signed_http(bot: BotHarness) -> None:
    response = bot.signer.slash_command("U0BOB", "help")
    assert response.status == 200
    assert response.json["response_type"] == "ephemeral"
    assert any("/platform whoami" in text for text in _ephemeral_texts(bot, "U0BOB"))


def test_an_unsigned_request_is_refused(bot: BotHarness) -> None:
    response = httpx.post(
        bot.app_url,
        content=b"command=%2Fplatform&text=help&user_id=U0BOB",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401


def test_a_replayed_request_older_than_five_minutes_is_refused(bot: BotHarness) -> None:
    body = "command=%2Fplatform&text=help&user_id=U0BOB&team_id=T0PLATFORM"
    old = str(int(time.time()) - 301)
    response = httpx.post(
        bot.app_url,
        content=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": old,
            "X-Slack-Signature": bot.signer.sign(body, old),
        },
    )
    assert response.status_code == 401


def test_a_tampered_body_is_refused(bot: BotHarness) -> None:
    body = "command=%2Fplatform&text=help&user_id=U0BOB&team_id=T0PLATFORM"
    now = str(int(time.time()))
    signature = bot.signer.sign(body, now)
    response = httpx.post(
        bot.app_url,
        content=body.replace("U0BOB", "U0ALICE").encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": now,
            "X-Slack-Signature": signature,
        },
    )
    assert response.status_code == 401


def test_a_command_mentioning_payload_is_answered_not_404(bot: BotHarness) -> None:
    response = bot.signer.slash_command("U0BOB", "ownr payload-svc")
    assert response.status == 200
    assert "I don't know `/platform ownr`" in response.json["text"]


def test_whoami_knows_teams_from_usergroups_and_emails(bot: BotHarness) -> None:
    response = bot.signer.slash_command("U0CAROL", "whoami")
    text = str(response.json["blocks"])
    assert "`payments`" in text  # member through the payments-eng usergroup, and lead by email


def _may_run(bot: BotHarness, user: str) -> list[str]:
    """The commands `user`'s whoami card says they may run."""
    blocks = bot.signer.slash_command(user, "whoami").json["blocks"]
    text = blocks[1]["text"]["text"]
    assert text.startswith("*You may run:* ")
    assert not re.search(r"\b[a-z_-]+\.[a-z_-]+\b", text), "no policy action ids"
    return re.findall(r"`/platform ([a-z-]+)`", text)


def test_whoami_lists_the_commands_the_persons_help_lists(bot: BotHarness) -> None:
    for user in ("U0BOB", "U0ALICE"):
        help_text = str(bot.signer.slash_command(user, "help").json["blocks"])
        listed = set(re.findall(r"`/platform ([a-z-]+)[ `]", help_text)) - {"help"}
        assert _may_run(bot, user) == sorted(listed)
    assert "jobs" in _may_run(bot, "U0ALICE") and "jobs" not in _may_run(bot, "U0BOB")


def test_app_home_shows_the_callers_help(bot: BotHarness) -> None:
    response = bot.signer.event({"type": "app_home_opened", "user": "U0DAVE", "tab": "home"})
    assert response.status == 200
    assert bot.emulator.wait_for(lambda: bot.emulator.state.home("U0DAVE") is not None)
    home = bot.emulator.state.home("U0DAVE")
    assert home is not None
    assert "/platform whoami" in str(home.spec["blocks"])


def test_health_readiness_and_metrics(bot: BotHarness) -> None:
    base = bot.app_url.removesuffix("/slack/events")
    bot.signer.slash_command("U0BOB", "whoami")
    assert httpx.get(f"{base}/healthz").text == "ok\n"
    assert httpx.get(f"{base}/readyz").status_code == 200
    metrics = httpx.get(f"{base}/metrics").text
    assert 'platform_bot_commands_total{outcome="ok",subcommand="whoami"}' in metrics
    assert 'platform_bot_ack_seconds_count{kind="command"}' in metrics
    assert 'platform_bot_jobs{status="queued"}' in metrics


def test_readiness_fails_when_the_database_does_not_answer() -> None:
    unreachable = make_engine("postgresql://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    web = WebApp(
        App(signing_secret="x", token="xoxb-x", token_verification_enabled=False),
        unreachable,
        signing_secret="x",
    )
    environ: dict[str, object] = {}
    setup_testing_defaults(environ)
    environ["PATH_INFO"] = "/readyz"
    statuses: list[str] = []
    body = b"".join(web(environ, lambda status, headers: statuses.append(status)))  # type: ignore[arg-type]
    assert statuses == ["503 Service Unavailable"]
    assert body == b"database unavailable\n"


@pytest.mark.parametrize("typed", [HOSTILE_TEXT, f"help {HOSTILE_TEXT}"], ids=["command", "topic"])
def test_hostile_text_typed_to_platform_is_shown_as_text(bot: BotHarness, typed: str) -> None:
    response = bot.signer.slash_command("U0BOB", typed)
    assert response.status == 200
    assert raw_markup_shown(bot.emulator) == []
    assert any(
        "I don't know `/platform &lt;!channel&gt;`" in text
        for text in _ephemeral_texts(bot, "U0BOB")
    )
