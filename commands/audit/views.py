"""Block Kit for `/platform audit` (pure builders and the parser of the paging buttons).

Every value from the log is escaped: actors, targets, details and inputs were typed by
people or came from integrations. The paging buttons carry the canonical filter text and
the id to page from; `parse_page` checks their shape, and the handler re-parses the filters
and the clicker's rights before reading anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.audit import AuditRecord
from bot.core.errors import InvalidInput
from bot.core.mrkdwn import CONTEXT_TEXT_LIMIT, SECTION_TEXT_LIMIT, escape, escape_truncated
from commands.audit.ids import ActionId
from commands.audit.service.filters import MAX_FILTER_TEXT
from commands.audit.service.query import Page

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_BUTTON_VALUE_LIMIT = 2000
_LIMITS = {"target": 120, "detail": 300, "inputs": 600}


@dataclass(frozen=True, slots=True)
class PageRequest:
    filters: str
    older_than: int | None
    newer_than: int | None


def _who(actor: str) -> str:
    # A stored actor is a user id or `system`; anything else is shown as text, never markup.
    return f"<@{actor}>" if _USER_ID.fullmatch(actor) else f"`{escape(actor)}`"


def _record(row: AuditRecord) -> SectionBlock:
    stamp = int(row.created_at.timestamp())
    lines = [
        f"*{escape(row.action)}* · {escape(row.outcome)} · {_who(row.actor)} · "
        f"<!date^{stamp}^{{date_short}} {{time}}|{row.created_at:%Y-%m-%d %H:%M} UTC> · "
        f"#{row.id}"
    ]
    if row.target:
        lines.append(f"Target: `{escape_truncated(row.target, _LIMITS['target'])}`")
    if row.detail:
        lines.append(escape_truncated(row.detail, _LIMITS["detail"]))
    if row.inputs:
        inputs = json.dumps(row.inputs, sort_keys=True, ensure_ascii=False)
        lines.append(f"Inputs: `{escape_truncated(inputs, _LIMITS['inputs'])}`")
    text = "\n".join(lines)
    return SectionBlock(text=MarkdownTextObject(text=text[:SECTION_TEXT_LIMIT]))


def _button(label: str, action_id: ActionId, filters: str, **cursor: int) -> ButtonElement:
    value = json.dumps({"f": filters, **cursor}, separators=(",", ":"))
    return ButtonElement(text=label, action_id=action_id, value=value)


def build_page(page: Page, filters: str) -> tuple[str, list[dict[str, Any]]]:
    shown = f"`{escape_truncated(filters, 300)}`" if filters else "none"
    if not page.records:
        text = f"No audit records match these filters ({shown})."
        return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Audit log, newest first · filters: {shown}"[:CONTEXT_TEXT_LIMIT]
                )
            ]
        ),
        *(_record(row) for row in page.records),
    ]
    buttons = []
    if page.has_newer:
        buttons.append(_button("Previous", ActionId.PAGE_NEWER, filters, n=page.records[0].id))
    if page.has_older:
        buttons.append(_button("Next", ActionId.PAGE_OLDER, filters, o=page.records[-1].id))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return f"Audit log: {len(page.records)} records", [block.to_dict() for block in blocks]


def parse_page(value: str) -> PageRequest:
    """A paging button's value, checked: a bounded filter text and one positive id."""
    try:
        if len(value) > _BUTTON_VALUE_LIMIT:
            raise ValueError("too long")
        document = json.loads(value)
        filters = document["f"]
        older, newer = document.get("o"), document.get("n")
        if not isinstance(filters, str) or len(filters) > MAX_FILTER_TEXT:
            raise ValueError("filters")
        if (older is None) == (newer is None):
            raise ValueError("one cursor")
        cursor = older if older is not None else newer
        if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 1:
            raise ValueError("cursor")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput(
            "That page button is not one of mine; run `/platform audit` again."
        ) from None
    return PageRequest(filters=filters, older_than=older, newer_than=newer)


def build_export_started(filters: str, limit: int) -> str:
    shown = f"`{escape_truncated(filters, 300)}`" if filters else "none"
    return (
        f"Exporting the matching audit records (filters: {shown}, at most {limit:,}) as "
        "JSON Lines; I'll upload the file to our DM."
    )
