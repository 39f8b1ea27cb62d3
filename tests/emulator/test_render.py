"""Terminal rendering of Block Kit: pure functions, checked line by line."""

from __future__ import annotations

import re
from typing import Any

from bot.emulator.render import Numbering, mrkdwn, render_blocks, render_message, render_modal
from bot.emulator.state import View
from bot.emulator.workspace import Workspace

WS = Workspace.default()


def text(kind: str, value: str) -> dict[str, str]:
    return {"type": kind, "text": value}


def test_mrkdwn_is_reduced_to_readable_text() -> None:
    source = (
        "*Deploy* _now_ ~old~ <https://ci.example.com|CI> <https://x.example.com> <@U0BOB> "
        "<#C0PAYMENTS|payments> <!subteam^S0PLATFORM> <!here> a*b &lt;tag&gt;"
    )

    assert mrkdwn(source, WS) == (
        "Deploy now old CI (https://ci.example.com) https://x.example.com @bob #payments "
        "@platform-team @here a*b <tag>"
    )


def test_blocks_render_in_order_with_numbered_controls() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": text("plain_text", "Release 1.2")},
        {"type": "section", "text": text("mrkdwn", "Ready for *review*")},
        {
            "type": "section",
            "fields": [text("mrkdwn", "*Env*"), text("mrkdwn", "prod"), text("mrkdwn", "x")],
        },
        {
            "type": "context",
            "elements": [text("mrkdwn", "by <@U0ALICE>"), {"type": "image", "alt_text": "logo"}],
        },
        {"type": "divider"},
        {"type": "image", "alt_text": "graph", "image_url": "https://x/y.png"},
        {
            "type": "actions",
            "block_id": "a",
            "elements": [
                {"type": "button", "action_id": "ok", "text": text("plain_text", "Approve")},
                {
                    "type": "static_select",
                    "action_id": "env",
                    "placeholder": text("plain_text", "Env"),
                    "options": [
                        {"text": text("plain_text", "Dev"), "value": "dev"},
                        {"text": text("plain_text", "Prod"), "value": "prod"},
                    ],
                },
            ],
        },
    ]
    numbering = Numbering()

    lines = render_blocks(blocks, WS, numbering)

    assert lines == [
        "RELEASE 1.2",
        "Ready for review",
        "Env".ljust(38) + "prod",
        "x",
        "~ by @alice | [image: logo]",
        "-" * 40,
        "[image: graph]",
        "[1 Approve] [2 Env: Dev | Prod]",
    ]
    assert [(c.number, c.action_id, c.type, c.choices) for c in numbering.controls] == [
        (1, "ok", "button", ()),
        (2, "env", "static_select", (("dev", "Dev"), ("prod", "Prod"))),
    ]


def test_message_marks_ephemeral_edited_files_and_thread_replies() -> None:
    numbering = Numbering()
    assert render_message("platform-bot", "hi *there*", [], WS, numbering, ephemeral=True) == [
        "platform-bot (only visible to you):",
        "  hi there",
    ]
    assert render_message(
        "bob", "", [], WS, numbering, edited=True, reply=True, files=[{"name": "a.txt"}]
    ) == ["  > bob (edited):", "    | [file: a.txt]"]


def test_modal_numbers_inputs_with_values_markers_hints_and_errors() -> None:
    spec = {
        "type": "modal",
        "title": text("plain_text", "Access"),
        "submit": text("plain_text", "Request"),
        "close": text("plain_text", "Cancel"),
        "blocks": [
            {"type": "section", "text": text("mrkdwn", "Ask for *access*")},
            {
                "type": "input",
                "block_id": "who",
                "label": text("plain_text", "Who"),
                "element": {"type": "users_select", "action_id": "u"},
            },
            {
                "type": "input",
                "block_id": "level",
                "optional": True,
                "label": text("plain_text", "Level"),
                "hint": text("plain_text", "read is enough"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "r",
                    "options": [
                        {"text": text("plain_text", "Read"), "value": "read"},
                        {"text": text("plain_text", "Write"), "value": "write"},
                    ],
                    "initial_option": {"text": text("plain_text", "Read"), "value": "read"},
                },
            },
        ],
    }
    view = View(
        id="V1",
        user="U0ALICE",
        spec=spec,
        hash="h",
        root_view_id="V1",
        values={"who": {"u": "U0BOB"}},
        errors={"who": "Not allowed"},
    )
    numbering = Numbering()

    lines = render_modal(view, WS, numbering)

    assert lines == [
        "== Access ==",
        "  Ask for access",
        '  (1) Who [required, users_select]: "@bob"',
        "      ! Not allowed",
        '  (2) Level [optional, radio_buttons]: "Read"',
        "      options: Read | Write",
        "      hint: read is enough",
        "  <Request> <Cancel>  (:submit / :close)",
    ]
    assert [(c.block_id, c.in_input) for c in numbering.controls] == [
        ("who", True),
        ("level", True),
    ]


def test_columns_line_up_when_the_terminal_shows_bold() -> None:
    from bot.emulator.render import ANSI, _columns

    lines = _columns([ANSI.bold("Name") + "\nBob", ANSI.bold("Email") + "\nbob@example.com"])
    visible = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
    assert visible[0].index("Email") == visible[1].index("bob@example.com")
