"""`platform-bot socket`, the real process, against the emulator's Socket Mode.

The bot connects with SLACK_APP_TOKEN as it would to Slack; everything reaches it as envelopes
on the WebSocket and everything it answers comes back as acks and Web API calls. The emulator
then does what Slack does to a Socket Mode app: asks it to move to a new connection, drops its
connection, loses an ack. Nothing may be lost and nothing done twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import Emulator, SignedResponse, SlackSigner
from bot.emulator.delivery import EnvelopeType
from commands.lookup.ids import ActionId, BlockId
from tests.conftest import REPO_ROOT
from tests.core.polling import wait_until

pytestmark = pytest.mark.slow

ON_CALL_PAGED = "is paging you"


@dataclass
class SocketBot:
    emulator: Emulator
    signer: SlackSigner
    log: Path

    def sends(self, kind: EnvelopeType, **wanted: Any) -> list[Any]:
        """Every send of envelopes of `kind` whose payload (or its event) has `wanted`."""
        found = []
        for sent in self.emulator.socket_mode.sends():
            body = sent.payload.get("event", sent.payload)
            if sent.type is kind and all(body.get(k) == v for k, v in wanted.items()):
                found.append(sent)
        return found


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketBot]:
    directory = tmp_path_factory.mktemp("socket")
    with Emulator(rate_limits=None) as emulator:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "SLACK_API_URL": emulator.api_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_APP_TOKEN": emulator.app_token,
            "DATABASE_URL": f"sqlite:///{directory / 'bot.db'}",
            "PLATFORM_CONFIG": str(REPO_ROOT / "platform.example.yaml"),
            "LOG_LEVEL": "INFO",
        }
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True, timeout=60)
        log = directory / "socket.log"
        with log.open("w") as stream:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "socket"], env=env, stdout=stream, stderr=stream
            )
        signer = SlackSigner.over_socket(emulator)
        try:
            connected = emulator.socket_mode.wait_for_connection(timeout=60)
            assert connected and process.poll() is None, log.read_text()
            yield SocketBot(emulator, signer, log)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    # Stopped as a container is stopped: the connection and the services closed, exit 0.
    assert process.returncode == 0, log.read_text()
    assert "socket mode stopped" in log.read_text()
    assert "Traceback" not in log.read_text()


def _blocks_text(response: SignedResponse) -> str:
    assert response.status == 200, response
    return str(response.json.get("text", "")) + str(response.json.get("blocks", ""))


def test_a_slash_command_is_answered_with_the_ack_payload(bot: SocketBot) -> None:
    response = bot.signer.slash_command("U0ALICE", "help")

    assert "/platform whoami" in _blocks_text(response)
    [shown] = bot.emulator.state.ephemerals("U0ALICE")
    assert "/platform whoami" in str(shown.blocks)
    [sent] = bot.sends(EnvelopeType.SLASH_COMMANDS, user_id="U0ALICE", text="help")
    assert sent.retry_attempt == 0


def _service_card(bot: SocketBot, user: str) -> Any:
    """The service card with its Page button, once the catalog index has loaded."""

    def card_with_page_button() -> bool:
        response = bot.signer.slash_command(user, "service payments-api")
        return ActionId.PAGE_ONCALL in _blocks_text(response)

    assert wait_until(card_with_page_button, timeout=30, step=0.5), bot.log.read_text()
    return bot.emulator.state.ephemerals(user)[-1]


def _pages(bot: SocketBot) -> list[str]:
    state = bot.emulator.state
    channels = [state.dm_channel(user.id) for user in bot.emulator.workspace.users]
    return [
        message.text
        for channel in channels
        if channel is not None
        for message in state.messages(channel)
        if ON_CALL_PAGED in message.text
    ]


def test_a_button_a_modal_with_field_errors_and_a_lost_ack_page_the_on_call_once(
    bot: SocketBot,
) -> None:
    emulator = bot.emulator
    card = _service_card(bot, "U0DAVE")
    click = bot.signer.block_action(
        "U0DAVE",
        action_id=ActionId.PAGE_ONCALL,
        value="component:default/payments-api",
        message=(card.channel, card.ts),
    )
    assert click.status == 200
    assert emulator.wait_for(lambda: bool(emulator.state.modal_stack("U0DAVE")))
    [reason] = emulator.state.modal_stack("U0DAVE")

    too_short = bot.signer.view_submission(
        "U0DAVE", reason.id, {BlockId.REASON: {ActionId.REASON: "x"}}
    )

    assert too_short.json["response_action"] == "errors"
    [shown] = emulator.state.modal_stack("U0DAVE")
    assert shown.errors == {BlockId.REASON: "Say in a few words why you are paging."}

    bot.signer.view_submission(
        "U0DAVE", reason.id, {BlockId.REASON: {ActionId.REASON: "checkout 500s"}}
    )
    [confirm] = emulator.state.modal_stack("U0DAVE")
    earlier = len(emulator.socket_mode.sends())
    emulator.socket_mode.lose_acks(1)
    # Long enough to see the answer to Slack's retry, sent 3 s after the lost ack.
    patient = SlackSigner.over_socket(emulator, ack_timeout=15)

    paging = patient.view_submission("U0DAVE", confirm.id)

    assert paging.status == 200 and paging.json["response_action"] == "update"
    sends = emulator.socket_mode.sends()[earlier:]
    assert [(s.retry_attempt, s.retry_reason) for s in sends] == [(0, ""), (1, "timeout")]
    assert sends[0].envelope_id == sends[1].envelope_id
    assert sends[0].payload["view"]["id"] == confirm.id
    assert emulator.wait_for(lambda: bool(_pages(bot)), timeout=30)
    emulator.wait_idle()
    assert _pages(bot) == [
        ":rotating_light: <@U0DAVE> is paging you as the on-call for *payments-api*.\n"
        "*Reason:* checkout 500s"
    ]


def test_asked_to_refresh_the_bot_moves_to_a_new_connection(bot: SocketBot) -> None:
    socket_mode = bot.emulator.socket_mode
    opened = socket_mode.connections_opened

    socket_mode.disconnect("refresh_requested")

    assert socket_mode.wait_for_connection(newer_than=opened, timeout=30), bot.log.read_text()
    assert wait_until(lambda: socket_mode.connections == 1, timeout=15)  # the bot left the old
    response = bot.signer.slash_command("U0BOB", "help")
    assert "/platform whoami" in _blocks_text(response)
    [sent] = bot.sends(EnvelopeType.SLASH_COMMANDS, user_id="U0BOB", text="help")
    assert sent.link > opened


def test_after_a_drop_the_bot_reconnects_and_what_was_sent_meanwhile_is_handled_once(
    bot: SocketBot,
) -> None:
    emulator, socket_mode = bot.emulator, bot.emulator.socket_mode
    opened = socket_mode.connections_opened
    socket_mode.drop()
    assert wait_until(lambda: socket_mode.connections == 0)

    bot.signer.event({"type": "app_home_opened", "user": "U0ERIN", "tab": "home"})

    assert socket_mode.wait_for_connection(newer_than=opened, timeout=30), bot.log.read_text()
    assert emulator.wait_for(lambda: emulator.state.home("U0ERIN") is not None, timeout=30)
    emulator.wait_idle()
    [sent] = bot.sends(EnvelopeType.EVENTS_API, type="app_home_opened", user="U0ERIN")
    assert sent.retry_attempt == 0 and sent.link > opened
    published = [c for c in emulator.calls("views.publish") if c.params["user_id"] == "U0ERIN"]
    assert len(published) == 1
    home = emulator.state.home("U0ERIN")
    assert home is not None and "/platform whoami" in str(home.spec["blocks"])
