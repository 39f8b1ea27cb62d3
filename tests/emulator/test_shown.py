"""The emulator remembers everything it displayed, and the hostile-text check reads it."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.core.mrkdwn import escape
from bot.emulator import Emulator
from tests.hostile import HOSTILE_TEXT, raw_markup_shown


def _general(emulator: Emulator) -> str:
    channel = emulator.backend.workspace.channel("general")
    assert channel is not None
    return channel.id


def test_raw_hostile_text_in_a_message_is_found_even_after_an_edit(
    emulator: Emulator, client: WebClient
) -> None:
    channel = _general(emulator)
    posted = client.chat_postMessage(channel=channel, text=f"Reason: {HOSTILE_TEXT}")
    client.chat_update(channel=channel, ts=posted["ts"], text="Reason: (removed)")
    assert raw_markup_shown(emulator) == [f"Reason: {HOSTILE_TEXT}"]


def test_escaped_text_and_plain_text_are_not_flagged(emulator: Emulator, client: WebClient) -> None:
    channel = _general(emulator)
    client.chat_postMessage(
        channel=channel,
        text="fallback",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": escape(HOSTILE_TEXT)}},
            {"type": "header", "text": {"type": "plain_text", "text": HOSTILE_TEXT[:150]}},
        ],
    )
    assert raw_markup_shown(emulator) == []


def test_raw_text_inside_a_block_is_found(emulator: Emulator, client: WebClient) -> None:
    channel = _general(emulator)
    block = {"type": "section", "text": {"type": "mrkdwn", "text": HOSTILE_TEXT}}
    client.chat_postMessage(channel=channel, text="fallback", blocks=[block])
    assert raw_markup_shown(emulator) == [HOSTILE_TEXT]
