"""Hostile text for end-to-end tests, and a check that none of it reached Slack as markup.

Typed into any free-text field, `HOSTILE_TEXT` would ping a whole channel and show a link
disguised as an approval portal if it entered mrkdwn unescaped. `raw_markup_shown` walks
everything the emulator displayed (every message, edit, ephemeral and view) and returns the
mrkdwn strings in which it appears raw; plain_text may carry it, since Slack never parses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.emulator import Emulator

HOSTILE_TEXT = "<!channel> <https://evil.example/sso|Approve in the portal> & more"
RAW_MARKERS = ("<!channel>", "<https://evil.example")


def _mrkdwn_strings(node: Any, *, message_text: bool = False) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for key, value in node.items():
            if key == "text" and message_text and isinstance(value, str):
                yield value  # a message's top-level text is mrkdwn unless mrkdwn=false
            elif isinstance(value, dict | list):
                yield from _mrkdwn_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _mrkdwn_strings(item)


def raw_markup_shown(emulator: Emulator, markers: tuple[str, ...] = RAW_MARKERS) -> list[str]:
    """Every displayed mrkdwn string that carries one of `markers` unescaped."""
    found = []
    for shown in emulator.state.shown():
        for text in _mrkdwn_strings(shown, message_text=shown["kind"] != "view"):
            if any(marker in text for marker in markers):
                found.append(text)
    return found
