"""Block Kit for paging the on-call: the reason and confirm modals, and the messages after.

The reason a person types is shown back (in the confirm modal, in the on-call's DM) escaped;
it goes to PagerDuty or Opsgenie as they take it, raw and bounded, since they read no mrkdwn.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from bot.core.errors import InvalidInput
from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, escape_truncated
from commands.lookup.ids import ActionId, BlockId, CallbackId
from commands.lookup.service.lookups import MAX_REASON_LENGTH
from commands.lookup.service.types import PagePreview
from commands.lookup.views.blocks import md
from commands.lookup.views.reports import REASON_SHOWN
from commands.lookup.views.text import oncall_lines

MODAL_TITLE_LENGTH = 24
# A reason is at most MAX_REASON_LENGTH characters; escaped, `&` alone takes five.


class _PageMetadata(BaseModel):
    ref: str
    reason: str = ""


def build_page_reason_modal(entity_ref: str, entity_label: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=CallbackId.PAGE_REASON,
        title="Page on-call",
        submit="Next",
        close="Cancel",
        private_metadata=_PageMetadata(ref=entity_ref).model_dump_json(),
        blocks=[
            SectionBlock(text=md(f"Page whoever is on call for *{escape(entity_label)}*.")),
            InputBlock(
                block_id=BlockId.REASON,
                label="Why are you paging?",
                element=PlainTextInputElement(
                    action_id=ActionId.REASON, multiline=True, max_length=MAX_REASON_LENGTH
                ),
            ),
        ],
    )
    return view.to_dict()


def parse_page_metadata(private_metadata: str) -> tuple[str, str]:
    try:
        data = _PageMetadata.model_validate(json.loads(private_metadata or "{}"))
    except (ValueError, ValidationError):
        raise InvalidInput("This form is out of date; open the service card again.") from None
    return data.ref, data.reason


def parse_reason(state_values: dict[str, Any]) -> str:
    value = state_values.get(BlockId.REASON, {}).get(ActionId.REASON, {}).get("value")
    return str(value or "")


def build_page_confirm_modal(preview: PagePreview, reason: str, tz: str | None) -> dict[str, Any]:
    now, _ = oncall_lines(preview.oncall, tz, SECTION_TEXT_LIMIT // 3)
    if preview.oncall is None:
        now = f"whoever {escape(preview.provider)} has on call"
    text = (
        f"Page *{now}* (on call for *{preview.entity.name}*, via {escape(preview.provider)})?\n"
        f"*Reason:* {escape_truncated(reason, REASON_SHOWN)}"
    )
    view = View(
        type="modal",
        callback_id=CallbackId.PAGE_CONFIRM,
        title="Confirm page",
        submit="Page now",
        close="Back",
        private_metadata=_PageMetadata(ref=preview.entity.ref, reason=reason).model_dump_json(),
        blocks=[SectionBlock(text=md(text))],
    )
    return view.to_dict()


def build_notice_modal(title: str, text: str) -> dict[str, Any]:
    view = View(
        type="modal",
        title=title[:MODAL_TITLE_LENGTH],
        close="Done",
        blocks=[SectionBlock(text=md(text))],
    )
    return view.to_dict()


def build_paging_modal(entity_name: str) -> dict[str, Any]:
    return build_notice_modal(
        "Paging", f"Paging the on-call for *{escape(entity_name)}*. I'll DM you."
    )
