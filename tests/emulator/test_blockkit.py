"""Block Kit limits from the documented table, enforced on everything the app sends."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import Emulator
from bot.emulator.blockkit import assign_ids, check_message_blocks, check_view


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": "go",
        "text": {"type": "plain_text", "text": text},
        **extra,
    }


def option(text: str = "a", value: str = "a") -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def modal(**extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Title"},
        "blocks": [],
        **extra,
    }


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([section("x")] * 51, "[ERROR] must provide no more than 50 items [json-pointer:/blocks]"),
        (
            [section("x" * 3001)],
            "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "[ERROR] must provide no more than 10 items [json-pointer:/blocks/0/fields]",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        ),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
            "[ERROR] must be one of plain_text [json-pointer:/blocks/0/text/type]",
        ),
        (
            [{"type": "actions", "elements": [button()] * 26}],
            "[ERROR] must provide no more than 25 items [json-pointer:/blocks/0/elements]",
        ),
        (
            [{"type": "context", "elements": [{"type": "plain_text", "text": "c"}] * 11}],
            "[ERROR] must provide no more than 10 items [json-pointer:/blocks/0/elements]",
        ),
        (
            [{**section("x"), "block_id": "b" * 256}],
            "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/block_id]",
        ),
        (
            [{"type": "actions", "elements": [{**button(), "action_id": "a" * 256}]}],
            "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",  # noqa: E501
        ),
        (
            [{"type": "actions", "elements": [button("b" * 76)]}],
            "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            [{"type": "actions", "elements": [button(value="v" * 2001)]}],
            "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ),
        (
            [{"type": "actions", "elements": [button(url="u" * 3001)]}],
            "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "static_select", "options": [option("o" * 76)]}],
                }
            ],
            "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/options/0/text/text]",  # noqa: E501
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "static_select", "options": [option(value="v" * 151)]}],
                }
            ],
            "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]",  # noqa: E501
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "static_select", "options": [option()] * 101}],
                }
            ],
            "[ERROR] must provide no more than 100 items [json-pointer:/blocks/0/elements/0/options]",  # noqa: E501
        ),
        (
            [{"type": "actions", "elements": [{"type": "overflow", "options": [option()] * 6}]}],
            "[ERROR] must provide no more than 5 items [json-pointer:/blocks/0/elements/0/options]",
        ),
        (
            [{"type": "actions", "elements": [{"type": "checkboxes", "options": [option()] * 11}]}],
            "[ERROR] must provide no more than 10 items [json-pointer:/blocks/0/elements/0/options]",  # noqa: E501
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "radio_buttons", "options": [option()] * 11}],
                }
            ],
            "[ERROR] must provide no more than 10 items [json-pointer:/blocks/0/elements/0/options]",  # noqa: E501
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "users_select",
                            "placeholder": {"type": "plain_text", "text": "p" * 151},
                        }
                    ],
                }
            ],
            "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/elements/0/placeholder/text]",  # noqa: E501
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        button(
                            confirm={
                                "title": {"type": "plain_text", "text": "t" * 101},
                                "text": {"type": "mrkdwn", "text": "x"},
                                "confirm": {"type": "plain_text", "text": "y"},
                                "deny": {"type": "plain_text", "text": "n"},
                            }
                        )
                    ],
                }
            ],
            "[ERROR] must be less than 101 characters [json-pointer:/blocks/0/elements/0/confirm/title/text]",  # noqa: E501
        ),
        (
            [{**section("a"), "block_id": "same"}, {**section("b"), "block_id": "same"}],
            "[ERROR] duplicate block_id: same [json-pointer:/blocks/1/block_id]",
        ),
        (
            [{"type": "carousel"}],
            "[ERROR] unsupported block type: carousel [json-pointer:/blocks/0/type]",
        ),
        (
            [
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "L"},
                    "element": {"type": "plain_text_input"},
                }
            ],
            "[ERROR] input blocks are only allowed in modals [json-pointer:/blocks/0/type]",
        ),
    ],
)
def test_message_block_limits(blocks: list[dict[str, Any]], expected: str) -> None:
    assert check_message_blocks(blocks) == [expected]


def test_limits_at_the_boundary_pass() -> None:
    blocks = [section("x" * 3000), {"type": "actions", "elements": [button("b" * 75)] * 25}]
    blocks += [section("y")] * 48

    assert check_message_blocks(blocks) == []


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (
            modal(title={"type": "plain_text", "text": "t" * 25}),
            "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
        ),
        (
            modal(submit={"type": "plain_text", "text": "s" * 25}),
            "[ERROR] must be less than 25 characters [json-pointer:/view/submit/text]",
        ),
        (
            modal(close={"type": "plain_text", "text": "c" * 25}),
            "[ERROR] must be less than 25 characters [json-pointer:/view/close/text]",
        ),
        (
            modal(private_metadata="m" * 3001),
            "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]",
        ),
        (
            modal(callback_id="c" * 256),
            "[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]",
        ),
        (
            modal(blocks=[section("x")] * 101),
            "[ERROR] must provide no more than 100 items [json-pointer:/view/blocks]",
        ),
        (
            modal(
                submit={"type": "plain_text", "text": "OK"},
                blocks=[
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "l" * 2001},
                        "element": {"type": "plain_text_input"},
                    }
                ],
            ),
            "[ERROR] must be less than 2001 characters [json-pointer:/view/blocks/0/label/text]",
        ),
        (
            modal(
                blocks=[
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "L"},
                        "element": {"type": "plain_text_input"},
                    }
                ]
            ),
            "[ERROR] a modal with input blocks must have a submit button [json-pointer:/view/submit]",  # noqa: E501
        ),
        (
            {"type": "home", "blocks": [], "submit": {"type": "plain_text", "text": "x"}},
            "[ERROR] home views cannot have submit or close [json-pointer:/view]",
        ),
    ],
)
def test_view_limits(view: dict[str, Any], expected: str) -> None:
    assert expected in check_view(view)


def test_generated_ids_fill_only_what_is_missing() -> None:
    [kept, filled] = assign_ids(
        [
            {**section("a"), "block_id": "mine"},
            {"type": "actions", "elements": [{"type": "button"}]},
        ]
    )

    assert kept["block_id"] == "mine"
    assert len(filled["block_id"]) == 5 and len(filled["elements"][0]["action_id"]) == 5


def test_invalid_blocks_are_refused_with_pointers(client: WebClient, emulator: Emulator) -> None:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C0GENERAL", text="x", blocks=[section("x" * 3001)])

    assert info.value.response.data == {
        "ok": False,
        "error": "invalid_blocks",
        "response_metadata": {
            "messages": [
                "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
            ]
        },
    }
    assert emulator.messages("general") == []
