"""Block Kit for `/platform whoami` (pure builders)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.identity import Principal
from bot.mrkdwn import escape


def _listing(values: Iterable[str]) -> str:
    items = sorted(values)
    return ", ".join(f"`{escape(v)}`" for v in items) if items else "none"


def build_whoami(principal: Principal, allowed_actions: list[str]) -> list[dict[str, Any]]:
    # Name, email and time zone come from the person's Slack profile, which they edit freely.
    fields = [
        MarkdownTextObject(text=f"*Name*\n{escape(principal.name)}"),
        MarkdownTextObject(text=f"*Email*\n{escape(principal.email or 'unknown')}"),
        MarkdownTextObject(text=f"*Teams*\n{_listing(principal.teams)}"),
        MarkdownTextObject(text=f"*Lead of*\n{_listing(principal.lead_of)}"),
        MarkdownTextObject(text=f"*Roles*\n{_listing(principal.roles)}"),
        MarkdownTextObject(text=f"*Time zone*\n{escape(principal.tz or 'unknown')}"),
    ]
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=f"*<@{principal.user_id}>*"), fields=fields),
        SectionBlock(text=MarkdownTextObject(text="*You may run:* " + _listing(allowed_actions))),
    ]
    if principal.is_guest:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text="Guests cannot run actions that change things.")]
            )
        )
    return [block.to_dict() for block in blocks]
