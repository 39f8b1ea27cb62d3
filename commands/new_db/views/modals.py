"""The modals of `/platform new-db`, `dbs` and `drop-db`: pure builders and their parsers.

Messages (cards, approvals, progress, listings) are built in messages.py. Credentials
appear in exactly one builder, `build_reveal_modal`, which is only ever opened for the
requester by the Reveal button; no other builder takes a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.mrkdwn import (
    CONTEXT_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    escape,
    escape_truncated,
    truncate,
)
from commands.new_db.ids import ActionId, BlockId, CallbackId
from commands.new_db.service.form import REASON_MAX, TTL_FIELD, NewDbForm
from commands.new_db.service.options import FormChoices
from commands.new_db.service.types import ResourceInfo
from commands.new_db.views import menus
from commands.resources.hours import MAX_TEXT, parse_hours

JSON = dict[str, Any]

FIELD_BLOCKS = {
    "engine": BlockId.ENGINE,
    "name": BlockId.NAME,
    "tier": BlockId.TIER,
    "team": BlockId.TEAM,
    "plan": BlockId.PLAN,
    "ttl": BlockId.TTL,
    "reason": BlockId.REASON,
    "confirm_name": BlockId.CONFIRM_NAME,
    "extend_hours": BlockId.EXTEND_HOURS,
}


# -- the request modal -----------------------------------------------------------------------


def _plan_block(choices: FormChoices, plan: str | None) -> Any:
    """The plans the chosen tier allows, one of them preselected; or why there are none."""
    if not choices.plans:
        return SectionBlock(
            block_id=BlockId.PLAN_NOTE,
            text=MarkdownTextObject(
                text=f":warning: There is no {escape(choices.engine_label)} plan for "
                f"{escape(choices.tier)}; pick another engine or tier."
            ),
        )
    allowed = {p.value for p in choices.plans}
    return InputBlock(
        block_id=BlockId.PLAN,
        label="Plan",
        element=menus.select(
            ActionId.PLAN,
            menus.options(choices.plans, choices.currency),
            plan if plan in allowed else choices.plans[0].value,
        ),
    )


def _hours_text(hours: float | None) -> str:
    return f"{hours:g}" if hours else ""


def _ttl_block(max_hours: float, initial: str) -> InputBlock:
    """The time to live, for a tier whose resources expire."""
    return InputBlock(
        block_id=BlockId.TTL,
        label="Time to live (hours)",
        hint=f"Dropped automatically after this; at most {max_hours:g} h.",
        element=PlainTextInputElement(
            action_id=ActionId.TTL, initial_value=initial or None, max_length=MAX_TEXT
        ),
    )


def _reason_block(choices: FormChoices, reason: str) -> InputBlock:
    if choices.reason_required:
        hint = f"Required for {choices.tier}: approvers and the audit log see it."
    else:
        hint = "Approvers and the audit log see it."
    return InputBlock(
        block_id=BlockId.REASON,
        label="Reason",
        optional=not choices.reason_required,
        hint=hint,
        element=PlainTextInputElement(
            action_id=ActionId.REASON,
            multiline=True,
            initial_value=reason or None,
            max_length=REASON_MAX,
        ),
    )


def build_request_modal(
    choices: FormChoices,
    *,
    name: str = "",
    plan: str | None = None,
    ttl: str | None = None,
    reason: str = "",
    metadata: JSON | None = None,
) -> JSON:
    """The request form; plans follow the engine and tier, TTL and Reason the tier's rules."""
    blocks: list[Any] = [
        InputBlock(
            block_id=BlockId.ENGINE,
            label="Engine",
            dispatch_action=True,
            element=menus.select(ActionId.ENGINE, menus.options(choices.engines), choices.engine),
        ),
        InputBlock(
            block_id=BlockId.NAME,
            label="Name",
            hint="3-31 characters: lowercase letters, digits and '-', starting with a letter.",
            element=PlainTextInputElement(
                action_id=ActionId.NAME, initial_value=name or None, max_length=64
            ),
        ),
        InputBlock(
            block_id=BlockId.TIER,
            label="Environment tier",
            dispatch_action=True,
            element=menus.select(ActionId.TIER, menus.options(choices.tiers), choices.tier),
        ),
        InputBlock(
            block_id=BlockId.TEAM,
            label="Owning team",
            dispatch_action=True,
            element=menus.select(ActionId.TEAM, menus.options(choices.teams), choices.team),
        ),
        _plan_block(choices, plan),
    ]
    if choices.max_ttl_hours is not None:
        blocks.append(_ttl_block(choices.max_ttl_hours, ttl or _hours_text(choices.ttl_hours)))
    blocks.append(_reason_block(choices, reason))
    return View(
        type="modal",
        callback_id=CallbackId.NEW_DB,
        title="New database",
        submit="Request",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(metadata or {}),
    ).to_dict()


def _value(values: JSON, block: str, action: str) -> str:
    entry = values.get(block, {}).get(action, {})
    if "selected_option" in entry:
        option = entry["selected_option"] or {}
        return str(option.get("value") or "")
    return str(entry.get("value") or "").strip()


def parse_request(
    view: JSON, *, max_ttl_hours: Mapping[str, float | None]
) -> tuple[NewDbForm, dict[str, str]]:
    """The submitted form, and errors for fields that are not even well-formed.

    `max_ttl_hours` maps each tier to its longest time to live, so a number that cannot be
    read is refused with the bounds of the tier picked in the same form.
    """
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}
    tier = _value(values, BlockId.TIER, ActionId.TIER)
    ttl: float | None = None
    if max_ttl_hours.get(tier) is not None:
        ttl, problem = parse_hours(
            _value(values, BlockId.TTL, ActionId.TTL),
            field=TTL_FIELD,
            maximum=max_ttl_hours[tier],
        )
        if problem:
            errors["ttl"] = problem
    form = NewDbForm(
        engine=_value(values, BlockId.ENGINE, ActionId.ENGINE),
        name=_value(values, BlockId.NAME, ActionId.NAME),
        tier=tier,
        team=_value(values, BlockId.TEAM, ActionId.TEAM),
        plan=_value(values, BlockId.PLAN, ActionId.PLAN),
        ttl_hours=ttl,
        reason=_value(values, BlockId.REASON, ActionId.REASON) or None,
    )
    return form, errors


def parse_partial(view: JSON) -> JSON:
    """What is entered so far, to carry over when the modal is rebuilt."""
    values = view.get("state", {}).get("values", {})
    return {
        "engine": _value(values, BlockId.ENGINE, ActionId.ENGINE),
        "tier": _value(values, BlockId.TIER, ActionId.TIER),
        "team": _value(values, BlockId.TEAM, ActionId.TEAM),
        "name": _value(values, BlockId.NAME, ActionId.NAME),
        "plan": _value(values, BlockId.PLAN, ActionId.PLAN),
        "ttl": _value(values, BlockId.TTL, ActionId.TTL),
        "reason": _value(values, BlockId.REASON, ActionId.REASON),
    }


def field_errors(errors: dict[str, str], view: JSON) -> dict[str, str]:
    """Service field names → the modal's input block ids (only blocks the modal has).

    Slack shows errors only under input blocks, so an error for a field the form lacks (its
    tier changed and it was submitted before the rebuild) goes to the form's first input.
    """
    inputs = [
        str(b["block_id"])
        for b in view.get("blocks", [])
        if b.get("type") == "input" and b.get("block_id")
    ]
    mapped: dict[str, str] = {}
    for field, message in errors.items():
        block = str(FIELD_BLOCKS.get(field, field))
        target = block if block in inputs or not inputs else inputs[0]
        mapped.setdefault(target, message[:150])
    return mapped


def build_args_problems(problems: list[str], usage: str) -> tuple[str, list[JSON]]:
    """The answer to `/platform new-db` arguments that were not understood (mrkdwn)."""
    lines = "\n".join(f"• {problem}" for problem in problems)
    text = f"I did not open the form; this was not understood:\n{lines}\nUsage: `{usage}`"
    section = SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT)))
    return "Some arguments were not understood.", [section.to_dict()]


def build_notice_modal(title: str, text: str) -> JSON:
    """A modal pushed over a form to say why it cannot be submitted (`text` is mrkdwn)."""
    return View(
        type="modal",
        title=title[:24],
        close="Back",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT)))],
    ).to_dict()


# -- modals --------------------------------------------------------------------------------


def build_reveal_modal(resource: ResourceInfo, credentials: dict[str, str]) -> JSON:
    # Engines without a server or users (SQLite, NATS here) leave some fields empty: skip them.
    fields = [
        ("Host", "host"),
        ("Port", "port"),
        ("Database", "database"),
        ("User", "username"),
        ("Password", "password"),
        ("URL", "url"),
    ]
    rows = [
        f"*{label}:* `{escape(credentials[key])}`"
        for label, key in fields
        if credentials.get(key) and credentials[key] != "0"
    ]
    # Values are escaped and never cut: a credential shown half is worse than an error.
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text="\n".join(rows)))]
    if credentials.get("notes"):
        notes = escape_truncated(credentials["notes"], CONTEXT_TEXT_LIMIT)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=notes)]))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Shown once: the bot has deleted its copy. Closing this loses them."
                )
            ]
        )
    )
    return View(type="modal", title=f"{resource.name}"[:24], close="Done", blocks=blocks).to_dict()


def build_deny_modal(request_id: str) -> JSON:
    return View(
        type="modal",
        callback_id=CallbackId.DENY,
        title="Deny request",
        submit="Deny",
        close="Cancel",
        private_metadata=request_id,
        blocks=[
            InputBlock(
                block_id=BlockId.DENY_REASON,
                label="Why? The requester sees this.",
                element=PlainTextInputElement(
                    action_id=ActionId.DENY_REASON, multiline=True, max_length=500
                ),
            )
        ],
    ).to_dict()


def build_drop_modal(resource: ResourceInfo) -> JSON:
    return View(
        type="modal",
        callback_id=CallbackId.DROP,
        title="Drop database",
        submit="Drop",
        close="Cancel",
        private_metadata=resource.id,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"This drops *{escape(resource.engine_label)}* "
                    f"`{escape(resource.name)}` ({escape(resource.tier)}, "
                    f"{escape(resource.team)}) with its data and its user. It cannot be undone."
                )
            ),
            InputBlock(
                block_id=BlockId.CONFIRM_NAME,
                label=f"Type {resource.name} to confirm",
                element=PlainTextInputElement(action_id=ActionId.CONFIRM_NAME),
            ),
            InputBlock(
                block_id=BlockId.REASON,
                label="Reason",
                optional=True,
                element=PlainTextInputElement(
                    action_id=ActionId.REASON, multiline=True, max_length=REASON_MAX
                ),
            ),
        ],
    ).to_dict()


def build_rotate_modal(resource: ResourceInfo) -> JSON:
    """What re-issuing will do, before anything changes; Confirm re-issues."""
    return View(
        type="modal",
        callback_id=CallbackId.ROTATE,
        title="Re-issue credentials",
        submit="Re-issue",
        close="Cancel",
        private_metadata=resource.id,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"New credentials for {escape(resource.engine_label)} "
                    f"`{escape(resource.name)}` ({escape(resource.tier)}). Apps using the "
                    "current password stop connecting until they get the new one."
                )
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(text="They come by DM, to you only, as the first ones did.")
                ]
            ),
        ],
    ).to_dict()


def parse_text_field(view: JSON, block: str, action: str) -> str:
    return _value(view.get("state", {}).get("values", {}), block, action)


def build_extend_modal(resource: ResourceInfo, max_hours: float) -> JSON:
    return View(
        type="modal",
        callback_id=CallbackId.EXTEND,
        title="Extend time to live",
        submit="Extend",
        close="Cancel",
        private_metadata=resource.id,
        blocks=[
            InputBlock(
                block_id=BlockId.EXTEND_HOURS,
                label=f"Extend {resource.name} by (hours)",
                hint=f"At most {max_hours:g} hours from now.",
                element=PlainTextInputElement(action_id=ActionId.EXTEND_HOURS, initial_value="24"),
            )
        ],
    ).to_dict()
