"""Block Kit limits as Slack enforces them on blocks and views it receives.

slack_sdk validates only model objects, and only some of the documented limits; blocks sent as
plain dicts are not checked at all. Slack itself rejects the whole message or view, so the
emulator does the same and reports each problem the way Slack's `response_metadata.messages`
does: `[ERROR] <what> [json-pointer:/blocks/0/text/text]`.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

MESSAGE_BLOCKS = 50
SURFACE_BLOCKS = 100

BLOCK_TYPES = {
    "actions",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "video",
}
SELECTS_WITH_OPTIONS = {"static_select", "multi_static_select"}
SELECTS = SELECTS_WITH_OPTIONS | {
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
}
INPUT_ELEMENTS = SELECTS | {
    "plain_text_input",
    "number_input",
    "email_text_input",
    "url_text_input",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "checkboxes",
    "radio_buttons",
    "rich_text_input",
    "file_input",
}
ELEMENT_TYPES = INPUT_ELEMENTS | {"button", "overflow", "image", "workflow_button"}


class _Checker:
    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.errors: list[str] = []

    def error(self, pointer: str, what: str) -> None:
        self.errors.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.error(pointer, f"must be less than {limit + 1} characters")

    def max_items(self, value: Any, limit: int, pointer: str, minimum: int = 0) -> None:
        if not isinstance(value, list):
            return
        if len(value) > limit:
            self.error(pointer, f"must provide no more than {limit} items")
        elif len(value) < minimum:
            self.error(pointer, f"must provide at least {minimum} items")

    def text(self, obj: Any, limit: int, pointer: str, *, plain: bool = False) -> None:
        """A text composition object: right type and within its length limit."""
        if not isinstance(obj, dict):
            self.error(pointer, "must be a text object")
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.error(f"{pointer}/type", f"must be one of {', '.join(allowed)}")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.error(f"{pointer}/text", "must be a non-empty string")
        self.max_len(value, limit, f"{pointer}/text")

    def confirm(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            return
        for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            if key in obj:
                self.text(obj[key], limit, f"{pointer}/{key}", plain=key != "text")

    def option(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.error(pointer, "must be an option object")
            return
        self.text(obj.get("text"), 75, f"{pointer}/text")
        self.max_len(obj.get("value"), 150, f"{pointer}/value")
        if "description" in obj:
            self.text(obj["description"], 75, f"{pointer}/description")

    def options(self, obj: dict[str, Any], limit: int, pointer: str) -> None:
        options = obj.get("options")
        self.max_items(options, limit, f"{pointer}/options")
        for i, option in enumerate(options if isinstance(options, list) else []):
            self.option(option, f"{pointer}/options/{i}")
        groups = obj.get("option_groups")
        self.max_items(groups, 100, f"{pointer}/option_groups")
        for g, group in enumerate(groups if isinstance(groups, list) else []):
            self.text(group.get("label"), 75, f"{pointer}/option_groups/{g}/label", plain=True)
            self.options({"options": group.get("options")}, 100, f"{pointer}/option_groups/{g}")
        if options is not None and groups is not None:
            self.error(pointer, "must provide either options or option_groups, not both")

    def element(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.error(pointer, "must be an element object")
            return
        kind = obj.get("type")
        if kind not in ELEMENT_TYPES:
            self.error(f"{pointer}/type", f"unsupported element type: {kind}")
            return
        self.max_len(obj.get("action_id"), 255, f"{pointer}/action_id")
        if "placeholder" in obj:
            self.text(obj["placeholder"], 150, f"{pointer}/placeholder", plain=True)
        if "confirm" in obj:
            self.confirm(obj["confirm"], f"{pointer}/confirm")
        if kind == "button":
            self.text(obj.get("text"), 75, f"{pointer}/text", plain=True)
            self.max_len(obj.get("value"), 2000, f"{pointer}/value")
            self.max_len(obj.get("url"), 3000, f"{pointer}/url")
        elif kind in SELECTS_WITH_OPTIONS:
            self.options(obj, 100, pointer)
        elif kind == "overflow":
            self.options(obj, 5, pointer)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(obj, 10, pointer)
        elif kind == "image":
            self.max_len(obj.get("alt_text"), 2000, f"{pointer}/alt_text")
            self.max_len(obj.get("image_url"), 3000, f"{pointer}/image_url")

    def block(self, block: Any, pointer: str, seen_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.error(pointer, "must be a block object")
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.error(f"{pointer}/type", f"unsupported block type: {kind}")
            return
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            self.max_len(block_id, 255, f"{pointer}/block_id")
            if block_id in seen_ids:
                self.error(f"{pointer}/block_id", f"duplicate block_id: {block_id}")
            seen_ids.add(block_id)
        getattr(self, f"block_{kind}", lambda _b, _p: None)(block, pointer)

    def block_section(self, block: dict[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.error(pointer, "must provide text or fields")
        if "text" in block:
            self.text(block["text"], 3000, f"{pointer}/text")
        fields = block.get("fields")
        self.max_items(fields, 10, f"{pointer}/fields")
        for i, item in enumerate(fields if isinstance(fields, list) else []):
            self.text(item, 2000, f"{pointer}/fields/{i}")
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")

    def block_header(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("text"), 150, f"{pointer}/text", plain=True)

    def block_actions(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        self.max_items(elements, 25, f"{pointer}/elements", minimum=1)
        for i, element in enumerate(elements if isinstance(elements, list) else []):
            self.element(element, f"{pointer}/elements/{i}")

    def block_context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        self.max_items(elements, 10, f"{pointer}/elements", minimum=1)
        for i, element in enumerate(elements if isinstance(elements, list) else []):
            if isinstance(element, dict) and element.get("type") == "image":
                self.element(element, f"{pointer}/elements/{i}")
            else:
                self.text(element, 3000, f"{pointer}/elements/{i}")

    def block_image(self, block: dict[str, Any], pointer: str) -> None:
        self.max_len(block.get("alt_text"), 2000, f"{pointer}/alt_text")
        self.max_len(block.get("image_url"), 3000, f"{pointer}/image_url")
        if "title" in block:
            self.text(block["title"], 2000, f"{pointer}/title", plain=True)

    def block_markdown(self, block: dict[str, Any], pointer: str) -> None:
        self.max_len(block.get("text"), 12000, f"{pointer}/text")

    def block_input(self, block: dict[str, Any], pointer: str) -> None:
        if self.surface == "message":
            self.error(f"{pointer}/type", "input blocks are only allowed in modals")
        self.text(block.get("label"), 2000, f"{pointer}/label", plain=True)
        if "hint" in block:
            self.text(block["hint"], 2000, f"{pointer}/hint", plain=True)
        element = block.get("element")
        if isinstance(element, dict) and element.get("type") not in INPUT_ELEMENTS:
            self.error(f"{pointer}/element/type", "must be an input element")
        else:
            self.element(element, f"{pointer}/element")

    def blocks(self, blocks: Any, pointer: str, limit: int) -> None:
        if not isinstance(blocks, list):
            self.error(pointer, "must be an array of blocks")
            return
        self.max_items(blocks, limit, pointer)
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}", seen)


def check_message_blocks(blocks: Any, pointer: str = "/blocks") -> list[str]:
    """Problems with the blocks of a message; empty when Slack would accept them."""
    checker = _Checker("message")
    checker.blocks(blocks, pointer, MESSAGE_BLOCKS)
    return checker.errors


def check_view(view: Any, pointer: str = "/view") -> list[str]:
    """Problems with a modal or Home tab view; empty when Slack would accept it."""
    checker = _Checker("modal")
    if not isinstance(view, dict):
        checker.error(pointer, "must be a view object")
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.error(f"{pointer}/type", "must be one of modal, home")
        return checker.errors
    checker.surface = kind
    if kind == "modal":
        checker.text(view.get("title"), 24, f"{pointer}/title", plain=True)
    elif "submit" in view or "close" in view:
        checker.error(pointer, "home views cannot have submit or close")
    for key in ("submit", "close"):
        if key in view:
            checker.text(view[key], 24, f"{pointer}/{key}", plain=True)
    checker.max_len(view.get("private_metadata"), 3000, f"{pointer}/private_metadata")
    checker.max_len(view.get("callback_id"), 255, f"{pointer}/callback_id")
    checker.max_len(view.get("external_id"), 255, f"{pointer}/external_id")
    checker.blocks(view.get("blocks"), f"{pointer}/blocks", SURFACE_BLOCKS)
    blocks = view.get("blocks")
    blocks = blocks if isinstance(blocks, list) else []
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if kind == "modal" and has_input and "submit" not in view:
        checker.error(f"{pointer}/submit", "a modal with input blocks must have a submit button")
    return checker.errors


def assign_ids(blocks: list[Any]) -> list[Any]:
    """Give blocks and interactive elements the ids Slack generates when an app omits them.

    Payloads and `state.values` refer to blocks by these ids, so they must be fixed once, when
    the message or view is stored.
    """
    result = []
    for block in blocks:
        if not isinstance(block, dict):
            result.append(block)
            continue
        block = {**block}
        block.setdefault("block_id", _generated_id())
        children = [block.get("accessory"), block.get("element"), *block.get("elements", [])]
        if block.get("type") in ("actions", "section", "input"):
            for element in children:
                if isinstance(element, dict) and element.get("type") in ELEMENT_TYPES - {"image"}:
                    element.setdefault("action_id", _generated_id())
        result.append(block)
    return result


def _generated_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(5))
