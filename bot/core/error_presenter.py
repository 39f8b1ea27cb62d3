"""Errors where the person is looking: one pure function from an error and its request.

    the request                     what the person sees
    ─────────────────────────────   ────────────────────────────────────────────────────────
    a slash command                 the ack (ephemeral); once acked, a response_url ephemeral
    a button in a message           an ephemeral to the clicker, in the message's thread
    a button or menu in a modal     the modal, updated with the message on top
    a button on the App Home tab    a small notice modal opened over the tab
    a modal's submission            `response_action: errors` on the field the error names
                                    (`InvalidInput.field`, an input block id of the view),
                                    else `response_action: update` with the message on top
    anything else (events, …)       nobody to tell: the log only

A modal that cannot take one more block (Slack allows 100) or holds a block slack_sdk cannot
read gets a small notice modal pushed over it instead, so the person's form stays as it was.

`PlatformError` messages are shown as written (services write them for people). Anything
else is a bug: `reference_for` logs it with its traceback under a short reference id, and
the person sees an apology with that reference — never the exception's text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import Block, MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.core.errors import InvalidInput, PlatformError
from bot.core.mrkdwn import SECTION_TEXT_LIMIT, truncate
from bot.core.router_views import error_text, unexpected_error_text

logger = logging.getLogger(__name__)

# The block that carries the message in an updated modal: replaced, never stacked, when the
# person tries again and fails again.
ERROR_BLOCK_ID = "platform_error"
MODAL_BLOCK_LIMIT = 100
NOTICE_TITLE = "Couldn't do that"
# What a modal rebuilt from Slack's payload keeps (the rest is Slack's own bookkeeping).
_VIEW_FIELDS = (
    "type",
    "title",
    "submit",
    "close",
    "callback_id",
    "private_metadata",
    "external_id",
    "clear_on_close",
    "notify_on_close",
)


class Surface(StrEnum):
    """Where the request that failed came from."""

    COMMAND = "command"
    MESSAGE = "message"
    MODAL = "modal"
    SUBMISSION = "submission"
    HOME = "home"
    ELSEWHERE = "elsewhere"


@dataclass(frozen=True)
class Origin:
    """What `present` needs to know about the request: where it came from, and its handles."""

    surface: Surface
    acked: bool = False
    """The request was already answered, so the ack can no longer carry the message."""
    view: Mapping[str, Any] | None = None
    """The modal as Slack sent it (a modal's button, or a submission)."""
    thread_ts: str | None = None
    """The thread of the message whose button was clicked."""
    trigger_id: str | None = None
    has_response_url: bool = False

    @classmethod
    def of(cls, body: Mapping[str, Any], *, acked: bool) -> Origin:
        """The origin of a Bolt request body (slash command, block_actions, view_submission…)."""
        if body.get("command"):
            return cls(
                Surface.COMMAND, acked=acked, has_response_url=bool(body.get("response_url"))
            )
        kind = body.get("type")
        view = body.get("view")
        trigger_id = body.get("trigger_id")
        if kind == "view_submission" and isinstance(view, Mapping):
            return cls(
                Surface.SUBMISSION,
                acked=acked,
                view=view,
                trigger_id=trigger_id,
                has_response_url=bool(body.get("response_urls")),
            )
        if kind == "block_actions" and isinstance(view, Mapping) and view.get("type") == "modal":
            return cls(Surface.MODAL, acked=acked, view=view, trigger_id=trigger_id)
        if kind == "block_actions" and isinstance(view, Mapping) and view.get("type") == "home":
            return cls(Surface.HOME, acked=acked, trigger_id=trigger_id)
        if body.get("response_url"):
            message = body.get("message")
            thread_ts = message.get("thread_ts") if isinstance(message, Mapping) else None
            return cls(Surface.MESSAGE, acked=acked, thread_ts=thread_ts, has_response_url=True)
        return cls(Surface.ELSEWHERE, acked=acked)


@dataclass(frozen=True)
class UpdateView:
    """`views.update` of an open modal (the hash guards against a concurrent change)."""

    view_id: str
    hash: str | None
    view: View


@dataclass(frozen=True)
class PushView:
    """`views.push` of a notice over the open modal."""

    trigger_id: str
    view: View


@dataclass(frozen=True)
class OpenView:
    """`views.open` of a notice: the App Home tab itself cannot show a message."""

    trigger_id: str
    view: View


@dataclass(frozen=True)
class Presentation:
    """What to send; the caller sends each part that is set."""

    text: str
    """What the person reads (mrkdwn)."""
    ack: dict[str, Any] | None = None
    """The body of the HTTP answer; None answers with an empty 200 (if not answered yet)."""
    reply: dict[str, Any] | None = None
    """A message body for the request's response_url."""
    view: UpdateView | PushView | OpenView | None = None


def reference_for(error: Exception, *, where: str) -> str:
    """A reference id for `error`; an unexpected error is logged with its traceback under it."""
    reference = uuid.uuid4().hex[:8]
    if not isinstance(error, PlatformError):
        logger.exception("%s failed (reference %s)", where, reference, exc_info=error)
    return reference


def present(error: Exception, origin: Origin, *, reference: str) -> Presentation:
    """What to send so that the person sees `error` where they are looking (see the table)."""
    text = (
        error_text(error) if isinstance(error, PlatformError) else unexpected_error_text(reference)
    )
    if origin.surface is Surface.COMMAND:
        return _in_conversation(text, origin)
    if origin.surface is Surface.SUBMISSION and not origin.acked and origin.view is not None:
        return _in_submitted_modal(error, text, origin.view)
    if origin.surface is Surface.MODAL and origin.view is not None:
        return _in_open_modal(text, origin.view, origin.trigger_id)
    if origin.surface is Surface.HOME and origin.trigger_id:
        return Presentation(text, view=OpenView(origin.trigger_id, build_notice(text)))
    if origin.has_response_url:
        return _in_conversation(text, origin)
    return Presentation(text)


def _in_conversation(text: str, origin: Origin) -> Presentation:
    if origin.surface is Surface.COMMAND and not origin.acked:
        return Presentation(text, ack={"text": text, "response_type": "ephemeral"})
    reply: dict[str, Any] = {"text": text, "response_type": "ephemeral", "replace_original": False}
    if origin.thread_ts:
        reply["thread_ts"] = origin.thread_ts
    return Presentation(text, reply=reply)


def _in_submitted_modal(error: Exception, text: str, view: Mapping[str, Any]) -> Presentation:
    field = error.field if isinstance(error, InvalidInput) else None
    if field is not None and field in _input_block_ids(view):
        return Presentation(text, ack={"response_action": "errors", "errors": {field: text}})
    updated = build_view_with_error(view, text)
    if updated is not None:
        return Presentation(text, ack={"response_action": "update", "view": updated.to_dict()})
    notice = build_notice(text).to_dict()
    return Presentation(text, ack={"response_action": "push", "view": notice})


def _in_open_modal(text: str, view: Mapping[str, Any], trigger_id: str | None) -> Presentation:
    updated = build_view_with_error(view, text)
    view_id = view.get("id")
    if updated is not None and view_id:
        return Presentation(text, view=UpdateView(str(view_id), view.get("hash"), updated))
    if trigger_id:
        return Presentation(text, view=PushView(trigger_id, build_notice(text)))
    return Presentation(text)


def _input_block_ids(view: Mapping[str, Any]) -> set[str]:
    return {
        str(block.get("block_id"))
        for block in view.get("blocks") or []
        if isinstance(block, Mapping) and block.get("type") == "input"
    }


def build_view_with_error(view: Mapping[str, Any], text: str) -> View | None:
    """The modal as the person has it, with `text` on top (typed values stay: same ids).

    None when it cannot take one more block, or holds a block slack_sdk cannot read (a
    rebuilt view would silently lose it).
    """
    blocks = [
        block
        for block in view.get("blocks") or []
        if not (isinstance(block, Mapping) and block.get("block_id") == ERROR_BLOCK_ID)
    ]
    if len(blocks) >= MODAL_BLOCK_LIMIT:
        return None
    parsed = [Block.parse(dict(block)) if isinstance(block, Mapping) else None for block in blocks]
    readable = [block for block in parsed if block is not None]
    if len(readable) != len(blocks):
        return None
    fields = {key: view[key] for key in _VIEW_FIELDS if view.get(key) not in (None, "")}
    return View(**fields, blocks=[_error_block(text), *readable])


def build_notice(text: str) -> View:
    """A small modal that says what went wrong; closing it shows the modal beneath again."""
    return View(
        type="modal",
        title=PlainTextObject(text=NOTICE_TITLE),
        close=PlainTextObject(text="Back"),
        blocks=[_error_block(text)],
    )


def _error_block(text: str) -> SectionBlock:
    shown = truncate(f":warning: {text}", SECTION_TEXT_LIMIT)
    return SectionBlock(block_id=ERROR_BLOCK_ID, text=MarkdownTextObject(text=shown))
