"""Interaction payloads as Slack builds them: block_actions, view_submission, view_closed.

People pick options by value or by visible text and type dates as text; Slack sends typed
objects (`selected_option` with the whole option, `selected_user`, `selected_date`, ...).
This module does that translation from what a person entered (kept in `View.values`) to
`state.values`, including elements' initial values, which Slack reports as if entered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.emulator.backend import Backend
from bot.emulator.shapes import view_json
from bot.emulator.state import JSON, View

TEXT_INPUTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
SINGLE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
MULTI_OPTION = {"multi_static_select", "multi_external_select", "checkboxes"}
PICKERS = {
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}


def elements(blocks: list[JSON]) -> Iterator[tuple[JSON, JSON]]:
    """(block, element) for every interactive element, in display order."""
    for block in blocks:
        kind = block.get("type")
        if kind == "actions":
            for element in block.get("elements", []):
                yield block, element
        elif kind == "section" and isinstance(block.get("accessory"), dict):
            if block["accessory"].get("type") != "image":
                yield block, block["accessory"]
        elif kind == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]


def find_element(
    blocks: list[JSON], action_id: str, block_id: str | None = None
) -> tuple[JSON, JSON]:
    for block, element in elements(blocks):
        if element.get("action_id") == action_id and block_id in (None, block.get("block_id")):
            return block, element
    raise LookupError(f"no element with action_id {action_id!r}")


def options(element: JSON) -> list[JSON]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found.extend(group.get("options") or [])
    return found


def option_for(element: JSON, wanted: Any) -> JSON:
    """The option a person means by its value, its visible text, or its 1-based number."""
    if isinstance(wanted, dict):
        return wanted
    wanted = str(wanted)
    choices = options(element)
    for option in choices:
        if wanted == option.get("value"):
            return option
    for option in choices:
        if wanted.lower() == str(option.get("text", {}).get("text", "")).lower():
            return option
    if wanted.isdigit() and 1 <= int(wanted) <= len(choices):
        return choices[int(wanted) - 1]
    if element.get("type") in ("external_select", "multi_external_select"):
        return {"text": {"type": "plain_text", "text": wanted}, "value": wanted}
    raise ValueError(f"no option {wanted!r}; choose from {[o.get('value') for o in choices]}")


def _listed(raw: Any) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return raw
    return [part.strip() for part in str(raw).split(",") if part.strip()]


def _resolve(backend: Backend, kind: str, raw: Any) -> Any:
    """Users and channels may be given by handle or name; Slack sends ids."""
    if raw is None:
        return None
    if "users" in kind:
        user = backend.workspace.user(str(raw))
        return user.id if user else str(raw)
    if "channel" in kind or "conversation" in kind:
        channel = backend.workspace.channel(str(raw))
        return channel.id if channel else str(raw)
    return raw


def typed_value(backend: Backend, element: JSON, raw: Any) -> JSON:
    """One element's entry in `state.values` (or an action), from a person's raw input."""
    kind = str(element.get("type"))
    value: JSON = {"type": kind}
    if kind in TEXT_INPUTS or kind == "rich_text_input":
        text = None if raw is None else str(raw)
        if kind == "rich_text_input":
            section = {
                "type": "rich_text_section",
                "elements": [{"type": "text", "text": text or ""}],
            }
            value["rich_value"] = {"type": "rich_text", "elements": [section]}
        else:
            value["value"] = text
    elif kind in SINGLE_OPTION:
        value["selected_option"] = None if raw is None else option_for(element, raw)
    elif kind in MULTI_OPTION:
        value["selected_options"] = [option_for(element, item) for item in _listed(raw)]
    elif kind == "datetimepicker":
        value["selected_date_time"] = None if raw is None else int(raw)
    elif kind in PICKERS:
        key = PICKERS[kind][0]
        if kind.startswith("multi_"):
            value[key] = [_resolve(backend, kind, item) for item in _listed(raw)]
        else:
            value[key] = _resolve(backend, kind, raw)
    elif kind == "file_input":
        value["files"] = []
    return value


def initial_value(element: JSON) -> Any:
    """What Slack reports for an element the person has not touched."""
    kind = str(element.get("type"))
    if kind in TEXT_INPUTS or kind == "rich_text_input":
        return element.get("initial_value")
    if kind in SINGLE_OPTION:
        return element.get("initial_option")
    if kind in MULTI_OPTION:
        return element.get("initial_options")
    if kind == "datetimepicker":
        return element.get("initial_date_time")
    if kind in PICKERS:
        return element.get(PICKERS[kind][1])
    return None


def current_raw(view: View, block: JSON, element: JSON) -> Any:
    entered = view.values.get(str(block.get("block_id")), {})
    action_id = str(element.get("action_id"))
    return entered[action_id] if action_id in entered else initial_value(element)


def view_state(backend: Backend, view: View) -> JSON:
    """`state.values` of a view: every input, plus other elements the person has set."""
    values: dict[str, dict[str, JSON]] = {}
    for block, element in elements(view.spec.get("blocks", [])):
        if element.get("type") == "button":
            continue
        raw = current_raw(view, block, element)
        if block.get("type") != "input" and raw is None:
            continue
        entry = values.setdefault(str(block.get("block_id")), {})
        entry[str(element.get("action_id"))] = typed_value(backend, element, raw)
    return {"values": values}


def view_payload(backend: Backend, view: View) -> JSON:
    return {**view_json(backend, view), "state": view_state(backend, view)}


def missing_required(view: View) -> dict[str, str]:
    """Required inputs left empty; the Slack client refuses to submit until they are filled."""
    errors: dict[str, str] = {}
    for block, element in elements(view.spec.get("blocks", [])):
        if block.get("type") != "input" or block.get("optional"):
            continue
        if current_raw(view, block, element) in (None, "", []):
            errors[str(block.get("block_id"))] = "Please complete this required field."
    return errors


def action_entry(backend: Backend, block: JSON, element: JSON, raw: Any, action_ts: str) -> JSON:
    """One item of a block_actions payload's `actions` list."""
    if element.get("type") == "button":
        entry: JSON = {"type": "button", "text": element.get("text")}
        for key in ("value", "style", "url"):
            if key in element:
                entry[key] = element[key]
    else:
        entry = typed_value(backend, element, raw)
    entry.update(
        action_id=element.get("action_id"), block_id=block.get("block_id"), action_ts=action_ts
    )
    return entry
