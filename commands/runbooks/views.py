"""Block Kit of `/platform runbook`: the list, the run modal, the dry run, thread messages.

Everything from a runbook file or a person (titles, descriptions, values, step outputs) is
escaped here or before it gets here; every text is cut to its block's limit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, escape_truncated, truncate
from commands.runbooks.ids import ActionId, BlockId, CallbackId
from commands.runbooks.render import Rendered, Value, block_of
from commands.runbooks.spec import Parameter, ParamType, Runbook

JSON = dict[str, Any]
MAX_LISTED = 40
MAX_STEPS_SHOWN = 30


def _plain(text: str, limit: int = 75) -> JSON:
    return {"type": "plain_text", "text": text[:limit] or " "}


def _section(text: str) -> JSON:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_LIMIT)},
    }


def _button(text: str, action: str, value: str, style: str | None = None) -> JSON:
    button: JSON = {"type": "button", "text": _plain(text), "action_id": action, "value": value}
    if style:
        button["style"] = style
    return button


def _yes_no(run_id: int, yes: tuple[str, str], no: tuple[str, str]) -> JSON:
    """The two buttons that end a run's wait; both carry the run's id."""
    value = str(run_id)
    elements = [_button(*yes, value, "primary"), _button(*no, value, "danger")]
    return {"type": "actions", "elements": elements}


def build_list(runbooks: Sequence[Runbook], service: str | None) -> tuple[str, list[JSON]]:
    where = f" for `{escape_truncated(service, 100)}`" if service else ""
    if not runbooks:
        text = f"There is no runbook{where} you may run."
        return text, [_section(text)]
    blocks = [_section(f"*Runbooks{where}* ({len(runbooks)})")]
    for runbook in runbooks[:MAX_LISTED]:
        line = f"*{escape(runbook.title)}*  `/platform runbook run {runbook.name}`"
        if runbook.description:
            line += f"\n{escape_truncated(runbook.description, 300)}"
        facts = [f"owner {escape(runbook.owner)}"]
        if runbook.service:
            facts.append(f"service {escape(runbook.service)}")
        blocks.append(_section(f"{line}\n_{', '.join(facts)}_"))
    if len(runbooks) > MAX_LISTED:
        blocks.append(_section(f"… and {len(runbooks) - MAX_LISTED} more."))
    return f"Runbooks{where}", blocks


def _input(param: Parameter) -> JSON:
    element: JSON
    if param.type is ParamType.CHOICE:
        options = [{"text": _plain(c), "value": c[:150]} for c in param.choices]
        element = {"type": "static_select", "action_id": ActionId.FIELD, "options": options}
        chosen = [o for o in options if o["value"] == param.default]
        if chosen:
            element["initial_option"] = chosen[0]
    elif param.type is ParamType.BOOL:
        option = {"text": _plain(param.title), "value": "true"}
        element = {"type": "checkboxes", "action_id": ActionId.FIELD, "options": [option]}
        if param.default is True:
            element["initial_options"] = [option]
    else:
        element = {"type": "plain_text_input", "action_id": ActionId.FIELD}
        element["max_length"] = param.max_length if param.type is ParamType.STRING else 14
        if param.default is not None:
            element["initial_value"] = str(param.default)
    block: JSON = {
        "type": "input",
        "block_id": block_of(param),
        "label": _plain(param.title),
        "element": element,
        "optional": not param.required or param.type is ParamType.BOOL,
    }
    if param.hint:
        block["hint"] = _plain(param.hint, 150)
    return block


def build_form_modal(runbook: Runbook, *, dry_run: bool, channel: str) -> JSON:
    dry = {"text": _plain("Dry run: show the steps, run nothing"), "value": "dry"}
    check: JSON = {"type": "checkboxes", "action_id": ActionId.FIELD, "options": [dry]}
    if dry_run:
        check["initial_options"] = [dry]
    about = f"*{escape(runbook.title)}*"
    if runbook.description:
        about += f"\n{escape_truncated(runbook.description, 500)}"
    return {
        "type": "modal",
        "callback_id": CallbackId.FORM,
        "title": _plain("Run a runbook", 24),
        "submit": _plain("Run"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"runbook": runbook.name, "channel": channel[:32]}),
        "blocks": [
            _section(about),
            *(_input(param) for param in runbook.parameters),
            {
                "type": "input",
                "block_id": BlockId.DRY_RUN,
                "label": _plain("Dry run"),
                "element": check,
                "optional": True,
            },
        ],
    }


def parse_form(view: JSON) -> tuple[str, dict[str, Value | None], bool]:
    """(runbook name, raw values by parameter name, dry run?) as submitted."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    values = view.get("state", {}).get("values", {})
    raw: dict[str, Value | None] = {}
    for block, entry in values.items():
        if not str(block).startswith(BlockId.PARAM_PREFIX):
            continue
        field = entry.get(ActionId.FIELD) or {}
        name = str(block)[len(BlockId.PARAM_PREFIX) :]
        if field.get("type") == "checkboxes":
            raw[name] = bool(field.get("selected_options"))
        elif isinstance(field.get("selected_option"), dict):
            raw[name] = str(field["selected_option"].get("value") or "")
        else:
            raw[name] = field.get("value")
    dry = values.get(BlockId.DRY_RUN, {}).get(ActionId.FIELD) or {}
    name = str(metadata.get("runbook") or "") if isinstance(metadata, dict) else ""
    return name, raw, bool(dry.get("selected_options"))


def step_line(step: Rendered) -> str:
    flag = " :warning: risky" if step.risky else ""
    head = f"*{step.index + 1}. {escape(step.title)}* ({step.kind.value}){flag}"
    return f"{head}\n```{escape_truncated(step.shown, 600)}```"


def build_dry_run_modal(runbook: Runbook, steps: Sequence[Rendered]) -> JSON:
    blocks = [
        _section(f"*Dry run of {escape(runbook.title)}*: nothing was run. The steps would be:")
    ]
    blocks += [_section(step_line(step)) for step in steps[:MAX_STEPS_SHOWN]]
    return {
        "type": "modal",
        "title": _plain("Dry run", 24),
        "close": _plain("Close"),
        "blocks": blocks,
    }


def build_notice_modal(title: str, text: str) -> JSON:
    return {
        "type": "modal",
        "title": _plain(title, 24),
        "close": _plain("Close"),
        "blocks": [_section(text)],
    }


def build_text(text: str) -> list[JSON]:
    return [_section(text)]


def build_confirmation(run_id: int, step: Rendered) -> list[JSON]:
    text = f"*Step {step.index + 1}: {escape(step.title)}*\n{escape_truncated(step.text, 1000)}"
    return [
        _section(text),
        _yes_no(run_id, ("Continue", ActionId.CONTINUE), ("Stop", ActionId.STOP)),
    ]


def build_approval(
    run_id: int, runbook: str, runner: str, step: Rendered, approvers: str
) -> list[JSON]:
    text = (
        f"<@{runner}> runs *{escape(runbook)}*; step {step.index + 1} is risky and needs approval "
        f"from {approvers}:\n{step_line(step)}"
    )
    return [_section(text), _yes_no(run_id, ("Approve", ActionId.APPROVE), ("Deny", ActionId.DENY))]
