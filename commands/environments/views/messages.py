"""The messages of `/platform env`: the card, the list, approvals, the ready DM with its
Reveal button, expiry warnings with Extend / Snooze / Destroy, and the receipt.

No builder takes a secret: outputs on the card are the drivers' non-secret ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, escape_truncated, truncate
from commands.environments.ids import ActionId
from commands.environments.service.templates import NOT_PROVISIONED
from commands.environments.service.types import EnvInfo
from commands.environments.views.text import cost, status, when
from integrations.provisioning_protocols import WrappedSecret

JSON = dict[str, Any]
HOURS_PER_MONTH = 730
MAX_OUTPUTS_SHOWN = 20


def _section(text: str) -> JSON:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_LIMIT)},
    }


def _button(text: str, action: str, value: str, style: str | None = None) -> JSON:
    button: JSON = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def card_text(env: EnvInfo) -> str:
    lines = [
        f"*Environment* `{env.name}` · {status(env.status)}",
        f"Template *{escape(env.template)}* ({env.driver}) · tier *{env.tier}* · "
        f"team *{escape(env.team_name)}* · requested by <@{env.requested_by}>",
        f"Created {when(env.created_at)} · expires {when(env.expires_at)} · "
        f"{cost(env.monthly_cost, env.currency)}",
    ]
    if env.clone_of:
        lines.append(f"A copy of `{env.clone_of}`.")
    if env.reason:
        lines.append(f"Reason: {escape_truncated(env.reason, 300)}")
    for resource in env.resources:
        if resource.engine in NOT_PROVISIONED:
            continue  # a whole module or orchestrator run: its outputs say what it made
        lines.append(f"• {resource.label} `{resource.name}` ({resource.plan}): {resource.state}")
    shown = sorted(env.outputs.items())[:MAX_OUTPUTS_SHOWN]
    if shown:
        lines.append("Outputs: " + ", ".join(f"`{escape(k)}` = `{escape(v)}`" for k, v in shown))
    if env.failure:
        lines.append(f":warning: {escape_truncated(env.failure, 500)}")
    return "\n".join(lines)


def build_card(env: EnvInfo) -> list[JSON]:
    blocks = [_section(card_text(env))]
    if env.credentials_waiting:
        blocks.append(
            {
                "type": "actions",
                "elements": [_button("Reveal credentials", ActionId.REVEAL, env.id, "primary")],
            }
        )
    return blocks


def build_listing(envs: Sequence[EnvInfo]) -> tuple[str, list[JSON]]:
    if not envs:
        text = (
            "You and your teams have no environments. `/platform env create` makes one "
            "(you see the plan before anything is created)."
        )
        return text, [_section(text)]
    lines = []
    total = 0.0
    for env in envs:
        total += env.monthly_cost or 0
        lines.append(
            f"`{env.name}` · {status(env.status)} · {escape(env.template)} · {env.tier} · "
            f"{escape(env.team_name)} · expires {when(env.expires_at)}"
        )
    currency = envs[0].currency
    head = f"*{len(envs)} environment(s)* · about {total:,.2f} {currency} a month"
    return f"{len(envs)} environment(s)", [_section(head), _section("\n".join(lines))]


def _request(env: EnvInfo, approvers: str | None) -> JSON:
    """What is asked for; `approvers` (mrkdwn, from the policy) when the card is first posted."""
    needed = f"Needs {env.approvals_needed} approval(s)"
    text = (
        f"<@{env.requested_by}> asks for environment `{env.name}` "
        f"(*{escape(env.template)}*, tier *{env.tier}*, team *{escape(env.team_name)}*, "
        f"{cost(env.monthly_cost, env.currency)}).\n"
        + (f"{needed} from {approvers}." if approvers else f"{needed}.")
    )
    if env.reason:
        text += f"\nReason: {escape_truncated(env.reason, 500)}"
    return _section(text)


def _decision_buttons(env: EnvInfo) -> JSON:
    return {
        "type": "actions",
        "elements": [
            _button("Approve", ActionId.APPROVE, env.id, "primary"),
            _button("Deny", ActionId.DENY, env.id, "danger"),
        ],
    }


def build_approval(env: EnvInfo, approvers: str) -> list[JSON]:
    return [_request(env, approvers), _decision_buttons(env)]


def build_decided_approval(env: EnvInfo) -> list[JSON]:
    approved = ", ".join(f"<@{a}>" for a in env.approvers) or "nobody"
    text = f"Environment `{env.name}` for <@{env.requested_by}>: {status(env.status)}."
    if env.status == "pending_approval":
        text += f" Approved so far by {approved}; needs {env.approvals_needed}."
        return [_request(env, None), _section(text), _decision_buttons(env)]
    if env.status == "cancelled":
        return [_section(f"{text[:-1]} by <@{env.requested_by}>; nothing was created.")]
    return [_section(f"{text} Approved by {approved}.")]


def build_warning(env: EnvInfo, hours_left: float) -> list[JSON]:
    text = (
        f":alarm_clock: Environment `{env.name}` will be destroyed {when(env.expires_at)} "
        f"(in about {max(hours_left, 0):.0f} h), with everything in it."
    )
    return [
        _section(text),
        {
            "type": "actions",
            "elements": [
                _button("Extend…", ActionId.EXTEND, env.id, "primary"),
                _button("Snooze 1 day", ActionId.SNOOZE, env.id),
                _button("Destroy now", ActionId.DESTROY_NOW, env.id, "danger"),
            ],
        },
    ]


def receipt_text(env: EnvInfo, removed: Sequence[str], lived_hours: float) -> str:
    spent = (
        f"about {env.monthly_cost * lived_hours / HOURS_PER_MONTH:,.2f} {env.currency}"
        if env.monthly_cost is not None
        else "not priced"
    )
    listed = (
        "\n".join(f"• {escape(item)}" for item in removed[:40]) or "• nothing was left to remove"
    )
    return (
        f":wastebasket: Environment `{env.name}` is destroyed. It lived {lived_hours:.1f} h "
        f"and cost {spent}.\nRemoved:\n{listed}"
    )


def wrapped_text(env: EnvInfo, wrapped: WrappedSecret, path: str) -> str:
    """The credentials are in the secrets manager: a one-time token to read them."""
    minutes = max(1, wrapped.ttl_seconds // 60)
    command = wrapped.unwrap_command.replace("TOKEN", wrapped.token)
    return (
        f"The credentials of environment `{env.name}` are in the secrets manager at "
        f"`{escape(path)}`.\nA one-time token to read them, valid for {minutes} min and usable "
        f"once:\n```{escape(command)}```\nIf unwrapping says the token is invalid, someone else "
        "used it: tell the platform team."
    )
