"""Block Kit for `/platform whoami` (pure builders)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.core.identity import Principal
from bot.core.mrkdwn import SECTION_FIELD_LIMIT, SECTION_TEXT_LIMIT, escape, truncate


def _listing(values: Iterable[str]) -> str:
    items = sorted(values)
    return ", ".join(f"`{escape(v)}`" for v in items) if items else "none"


def _field(title: str, value: str) -> MarkdownTextObject:
    # Teams and roles come from the config and can be many: cut to what a field holds.
    return MarkdownTextObject(text=truncate(f"*{title}*\n{value}", SECTION_FIELD_LIMIT))


def build_whoami(principal: Principal, commands: list[str]) -> list[dict[str, Any]]:
    """The person's profile, teams and roles, and the `/platform` commands they may run."""
    # Name, email and time zone come from the person's Slack profile, which they edit freely.
    fields = [
        _field("Name", escape(principal.name)),
        _field("Email", escape(principal.email or "unknown")),
        _field("Teams", _listing(principal.teams)),
        _field("Lead of", _listing(principal.lead_of)),
        _field("Roles", _listing(principal.roles)),
        _field("Time zone", escape(principal.tz or "unknown")),
    ]
    runnable = _listing(f"/platform {name}" for name in commands)
    allowed = truncate("*You may run:* " + runnable, SECTION_TEXT_LIMIT)
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=f"*<@{principal.user_id}>*"), fields=fields),
        SectionBlock(text=MarkdownTextObject(text=allowed)),
    ]
    if principal.is_guest:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text="Guests cannot run actions that change things.")]
            )
        )
    return [block.to_dict() for block in blocks]
