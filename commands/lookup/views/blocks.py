"""Block Kit helpers the lookup builders share: text objects cut to their Block Kit limits."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, MarkdownTextObject

from bot.core.mrkdwn import SECTION_FIELD_LIMIT, SECTION_TEXT_LIMIT, truncate

Blocks = list[dict[str, Any]]


def md(text: str, limit: int = SECTION_TEXT_LIMIT) -> MarkdownTextObject:
    """Finished mrkdwn cut to `limit` without breaking a link, a mention or an entity."""
    return MarkdownTextObject(text=truncate(text, limit))


def field(title: str, value: str) -> MarkdownTextObject:
    return md(f"*{title}*\n{value}", SECTION_FIELD_LIMIT)


def dump(blocks: list[Block]) -> Blocks:
    return [block.to_dict() for block in blocks]
