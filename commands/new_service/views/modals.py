"""The new-service form: the template, Name, Owner and the template's own questions.

A select whose answer can change what follows (the template, a choice, a yes/no) dispatches
an action, and the handler rebuilds the form with `views.update`: questions whose `when`
no longer holds disappear, defaults over earlier answers are worked out again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from commands.new_service.ids import ActionId, BlockId, CallbackId
from commands.new_service.service.questions import MAX_ANSWER_CHARS, MISSING, Question
from commands.new_service.service.requests import NAME_RULE, Form, FormValues

JSON = dict[str, Any]
_YES_NO = (("1", "Yes"), ("0", "No"))


def _text(text: str, limit: int = 75) -> JSON:
    return {"type": "plain_text", "text": text[:limit] or " "}


def _select(
    block: str,
    label: str,
    options: Sequence[tuple[str, str]],
    initial: str | None,
    action: str = ActionId.CHOICE,
    hint: str = "",
) -> JSON:
    shown = [{"text": _text(lbl), "value": value} for value, lbl in options[:100]]
    element: JSON = {"type": "static_select", "action_id": action, "options": shown}
    chosen = [o for o in shown if o["value"] == initial]
    if chosen:
        element["initial_option"] = chosen[0]
    found: JSON = {
        "type": "input",
        "block_id": block,
        "label": _text(label, 2000),
        "element": element,
        "dispatch_action": action != ActionId.FIELD,
    }
    if hint:
        found["hint"] = _text(hint, 2000)
    return found


def _input(
    block: str, label: str, initial: str, hint: str, multiline: bool = False, optional: bool = False
) -> JSON:
    element: JSON = {
        "type": "plain_text_input",
        "action_id": ActionId.FIELD,
        "multiline": multiline,
        "max_length": MAX_ANSWER_CHARS,
    }
    if initial:
        element["initial_value"] = initial[:MAX_ANSWER_CHARS]
    found: JSON = {"type": "input", "block_id": block, "label": _text(label, 2000)}
    found["element"] = element
    found["optional"] = optional
    if hint:
        found["hint"] = _text(hint, 2000)
    return found


def _question_block(question: Question, value: Any) -> JSON:
    block = f"{BlockId.QUESTION_PREFIX}{question.key}"
    if question.choices:
        options = [(str(i), label) for i, (label, _) in enumerate(question.choices)]
        initial = next((str(i) for i, (_, v) in enumerate(question.choices) if v == value), None)
        return _select(block, question.label, options, initial, hint=question.help)
    if question.type == "bool":
        return _select(block, question.label, _YES_NO, "1" if value else "0", hint=question.help)
    shown = "" if value is None else str(value)
    if question.type in ("yaml", "json") and not isinstance(value, str) and value is not None:
        shown = json.dumps(value)
    # Left blank, a question with a default takes it (as copier's --defaults does).
    optional = question.default is not MISSING
    return _input(block, question.label, shown, question.help, question.multiline, optional)


def build_form_modal(
    templates: Sequence[tuple[str, str]], form: Form, values: FormValues, channel: str | None
) -> JSON:
    blocks: list[JSON] = [
        _select(
            BlockId.TEMPLATE,
            "Template",
            [(key, f"{key}: {description}") for key, description in templates],
            form.template.key,
            action=ActionId.TEMPLATE,
        ),
        _input(BlockId.NAME, "Name", values.name, NAME_RULE),
        _select(
            BlockId.OWNER,
            "Owner",
            [(t, t) for t in form.teams],
            values.owner or (form.teams[0] if form.teams else None),
            action=ActionId.FIELD,
            hint="The team that owns it in the catalog",
        ),
    ]
    blocks += [_question_block(q, form.values.get(q.key)) for q in form.questions]
    return {
        "type": "modal",
        "callback_id": CallbackId.FORM,
        "title": _text("New service", 24),
        "submit": _text("Create", 24),
        "close": _text("Cancel", 24),
        "private_metadata": json.dumps({"template": form.template.key, "channel": channel}),
        "blocks": blocks,
    }


def _value(entry: Any) -> str:
    if not isinstance(entry, dict):
        return ""
    selected = entry.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value") or "")
    return str(entry.get("value") or "")


def metadata_of(view: JSON) -> JSON:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def parse_form(view: JSON) -> FormValues:
    """The form's values as typed (checked by the service)."""
    values: Mapping[str, Any] = view.get("state", {}).get("values", {})

    def of(block: str) -> str:
        entries = values.get(block) or {}
        return next((_value(e) for e in entries.values()), "") if isinstance(entries, dict) else ""

    prefix = BlockId.QUESTION_PREFIX
    return FormValues(
        template=of(BlockId.TEMPLATE) or str(metadata_of(view).get("template") or ""),
        name=of(BlockId.NAME).strip(),
        owner=of(BlockId.OWNER),
        typed={b[len(prefix) :]: of(b) for b in values if b.startswith(prefix)},
    )


def field_errors(errors: Mapping[str, str], view: JSON) -> dict[str, str]:
    """Errors on the blocks the modal shows (a question's key → its block)."""
    shown = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
    found: dict[str, str] = {}
    for key, message in errors.items():
        block = key if key in (BlockId.NAME, BlockId.OWNER, BlockId.TEMPLATE) else f"q_{key}"
        target = block if block in shown else BlockId.NAME
        found[target] = (found.get(target, "") + " " + message).strip()[:150]
    return found


def build_notice_modal(title: str, text: str) -> JSON:
    return {
        "type": "modal",
        "title": _text(title, 24),
        "close": _text("Close", 24),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
    }
