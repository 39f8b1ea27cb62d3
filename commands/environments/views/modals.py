"""The modals of `/platform env`: the form, the plan (Confirm), destroy, extend, reveal.

Create and clone go form → plan → Confirm: the form's submit turns the modal into "Planning…"
at once (Slack waits 3 s at most), the plan replaces it when ready, and only its Confirm
creates anything. Secrets appear in one builder, `build_reveal_modal`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, truncate
from commands.environments.ids import ActionId, BlockId, CallbackId
from commands.environments.service.requests import REASON_MAX, FormValues
from commands.environments.service.templates import Template
from commands.environments.service.types import EnvInfo, EnvRequest, Operation, Plan
from commands.environments.views.text import cost, when

JSON = dict[str, Any]
MAX_CHANGES_SHOWN = 40
_VERB = {
    "create": ":heavy_plus_sign: create",
    "copy": ":arrows_counterclockwise: copy",
    "update": ":pencil2: update",
    "replace": ":recycle: replace",
    "delete": ":heavy_minus_sign: destroy",
    "destroy": ":heavy_minus_sign: destroy",
}


def _text(text: str) -> JSON:
    return {"type": "plain_text", "text": text[:75] or " "}


def _section(text: str, block_id: str | None = None) -> JSON:
    block: JSON = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_LIMIT)},
    }
    if block_id:
        block["block_id"] = block_id
    return block


def _option(value: str, label: str) -> JSON:
    return {"text": _text(label), "value": value}


def _select(
    block: str, label: str, options: Sequence[tuple[str, str]], initial: str | None
) -> JSON:
    element: JSON = {
        "type": "static_select",
        "action_id": ActionId.FIELD if block != BlockId.TEMPLATE else ActionId.TEMPLATE,
        "options": [_option(v, lbl) for v, lbl in options[:100]],
    }
    chosen = [o for o in element["options"] if o["value"] == initial]
    if chosen:
        element["initial_option"] = chosen[0]
    input_block: JSON = {
        "type": "input",
        "block_id": block,
        "label": _text(label),
        "element": element,
    }
    if block == BlockId.TEMPLATE:
        input_block["dispatch_action"] = True
    return input_block


def _input(
    block: str,
    label: str,
    initial: str = "",
    *,
    hint: str | None = None,
    optional: bool = False,
    multiline: bool = False,
    max_length: int = 60,
) -> JSON:
    element: JSON = {
        "type": "plain_text_input",
        "action_id": ActionId.FIELD,
        "max_length": max_length,
        "multiline": multiline,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    block_json: JSON = {
        "type": "input",
        "block_id": block,
        "label": _text(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block_json["hint"] = _text(hint)
    return block_json


def build_form_modal(
    templates: Sequence[Template],
    teams: Sequence[tuple[str, str]],
    form: FormValues,
    ttl_bounds: tuple[float | None, float | None],
    metadata: Mapping[str, str | None],
) -> JSON:
    """The create (or clone) form; the chosen template decides its tiers and inputs."""
    chosen = next((t for t in templates if t.key == form.template), templates[0])
    default, maximum = ttl_bounds
    tiers = chosen.config.tiers
    tier = form.tier if form.tier in tiers else tiers[0]
    blocks = []
    if form.clone_of:
        blocks.append(_section(f"A copy of `{escape(form.clone_of)}`, with its data."))
    else:
        blocks.append(
            _select(
                BlockId.TEMPLATE,
                "Template",
                [(t.key, f"{t.key}: {t.config.description}") for t in templates],
                chosen.key,
            )
        )
    blocks += [
        _input(
            BlockId.NAME, "Name", form.name, hint="3-20 characters: a-z, 0-9 and -", max_length=20
        ),
        _select(BlockId.TIER, "Tier", [(t, t) for t in tiers], tier),
        _select(BlockId.TEAM, "Owning team", teams, form.team or (teams[0][0] if teams else None)),
        _input(
            BlockId.TTL,
            "Time to live (hours)",
            form.ttl,
            hint=_ttl_hint(default, maximum),
            optional=True,
            max_length=12,
        ),
        _input(
            BlockId.REASON,
            "Reason",
            form.reason,
            optional=True,
            multiline=True,
            max_length=REASON_MAX,
        ),
    ]
    for key, spec in chosen.config.inputs.items():
        initial = (form.inputs or {}).get(key) or spec.default or ""
        blocks.append(
            _input(
                f"{BlockId.INPUT_PREFIX}{key}",
                spec.label,
                initial,
                hint=spec.hint,
                max_length=spec.max_length,
            )
        )
    return {
        "type": "modal",
        "callback_id": CallbackId.FORM,
        "title": _text("Clone environment" if form.clone_of else "New environment"),
        "submit": _text("Plan"),
        "close": _text("Cancel"),
        # A clone's form has no template field: its template travels here.
        "private_metadata": json.dumps(
            {**metadata, "clone_of": form.clone_of, "template": chosen.key}
        ),
        "blocks": blocks,
    }


def _ttl_hint(default: float | None, maximum: float | None) -> str:
    if maximum is None:
        return "This tier keeps environments until they are destroyed."
    return f"Empty: {default:g} hours. At most {maximum:g}."


def _value(values: JSON, block: str) -> str:
    entry = values.get(block, {}).get(ActionId.FIELD) or values.get(block, {}).get(
        ActionId.TEMPLATE
    )
    if not isinstance(entry, dict):
        return ""
    selected = entry.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value") or "")
    return str(entry.get("value") or "")


def parse_form(view: JSON) -> FormValues:
    """The form's values as typed (checked by the service)."""
    values = view.get("state", {}).get("values", {})
    metadata = _metadata(view)
    inputs = {
        block[len(BlockId.INPUT_PREFIX) :]: _value(values, block)
        for block in values
        if block.startswith(BlockId.INPUT_PREFIX)
    }
    clone_of = metadata.get("clone_of")
    return FormValues(
        template=_value(values, BlockId.TEMPLATE) or str(metadata.get("template") or ""),
        name=_value(values, BlockId.NAME),
        tier=_value(values, BlockId.TIER),
        team=_value(values, BlockId.TEAM),
        ttl=_value(values, BlockId.TTL),
        reason=_value(values, BlockId.REASON),
        inputs=inputs,
        clone_of=str(clone_of) if clone_of else None,
    )


def _metadata(view: JSON) -> JSON:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def build_planning_modal(title: str, external_id: str | None = None) -> JSON:
    extra = {"external_id": external_id} if external_id else {}
    return {
        **extra,
        "type": "modal",
        "title": _text(title),
        "close": _text("Cancel"),
        "blocks": [
            _section(":hourglass_flowing_sand: Working out the plan: nothing is changed yet…")
        ],
    }


def build_notice_modal(title: str, text: str) -> JSON:
    return {
        "type": "modal",
        "title": _text(title[:24]),
        "close": _text("Close"),
        "blocks": [_section(text)],
    }


def plan_lines(plan: Plan) -> list[str]:
    request = plan.request
    lines = [_VERB.get(c.action, c.action) + f" {c.what}" for c in plan.changes[:MAX_CHANGES_SHOWN]]
    if len(plan.changes) > MAX_CHANGES_SHOWN:
        lines.append(f"… and {len(plan.changes) - MAX_CHANGES_SHOWN} more")
    if not lines:
        lines.append("Nothing to change.")
    facts = [f"*Policy:* {plan.policy}"]
    if plan.operation is not Operation.DESTROY:
        quota = "no limit" if plan.quota_left is None else f"{plan.quota_left} left after this one"
        facts.append(f"*Quota* ({escape(request.team)}, {request.tier}): {quota}")
        expiry = when(plan.expires_at) if plan.expires_at else "never (kept until destroyed)"
        facts.append(f"*Expires:* {expiry}")
    estimate = cost(plan.monthly_cost, plan.currency)
    if plan.unpriced and plan.monthly_cost is not None:
        estimate += f", without {', '.join(plan.unpriced)} (no price in the config)"
    facts.append(f"*Estimated cost:* {estimate}")
    return ["\n".join(lines), "\n".join(facts)]


def build_plan_modal(plan: Plan, metadata: Mapping[str, str | None]) -> JSON:
    """The plan, and Confirm: the only button that creates anything."""
    request = plan.request
    verb = "Clone" if plan.operation is Operation.CLONE else "Create"
    head = f"*{verb}* `{request.name}` from *{escape(request.template)}* · tier *{request.tier}*"
    changes, facts = plan_lines(plan)
    submit = "Ask for approval" if plan.approvals_needed else "Confirm"
    return {
        "type": "modal",
        "callback_id": CallbackId.PLAN,
        "title": _text("Plan"),
        "submit": _text(submit),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({**metadata, "request": _request_json(request)}),
        "blocks": [_section(head), _section(changes), _section(facts)],
    }


def _request_json(request: EnvRequest) -> JSON:
    return {
        "template": request.template,
        "name": request.name,
        "tier": request.tier,
        "team": request.team,
        "ttl": request.ttl_hours,
        "reason": request.reason or "",
        "inputs": dict(request.inputs),
        "clone_of": request.clone_of,
    }


def parse_plan(view: JSON) -> FormValues:
    """The request a plan modal confirms, as a form to check once more."""
    found = _metadata(view).get("request") or {}
    ttl = found.get("ttl")
    inputs = found.get("inputs")
    return FormValues(
        template=str(found.get("template") or ""),
        name=str(found.get("name") or ""),
        tier=str(found.get("tier") or ""),
        team=str(found.get("team") or ""),
        ttl=f"{ttl:g}" if isinstance(ttl, (int, float)) else "",
        reason=str(found.get("reason") or "")[: REASON_MAX + 1],
        inputs={str(k): str(v) for k, v in inputs.items()} if isinstance(inputs, dict) else {},
        clone_of=str(found["clone_of"]) if found.get("clone_of") else None,
    )


def metadata_of(view: JSON) -> JSON:
    return _metadata(view)


def build_destroy_modal(env: EnvInfo, plan: Plan) -> JSON:
    changes, facts = plan_lines(plan)
    return {
        "type": "modal",
        "callback_id": CallbackId.DESTROY,
        "title": _text("Destroy environment"),
        "submit": _text("Destroy"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({"environment_id": env.id}),
        "blocks": [
            _section(f"*Destroy* `{env.name}` and everything in it. This cannot be undone."),
            _section(changes),
            _section(facts),
            _input(BlockId.CONFIRM_NAME, f"Type {env.name} to confirm", max_length=40),
        ],
    }


def build_extend_modal(env: EnvInfo) -> JSON:
    hint = f"At most {env.max_ttl_hours:g} hours from now." if env.max_ttl_hours else None
    return {
        "type": "modal",
        "callback_id": CallbackId.EXTEND,
        "title": _text("Extend environment"),
        "submit": _text("Extend"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({"environment_id": env.id}),
        "blocks": [
            _section(f"`{env.name}` expires {when(env.expires_at)}."),
            _input(BlockId.EXTEND_HOURS, "Extend by (hours)", hint=hint, max_length=12),
            _input(
                BlockId.REASON, "Why does it need longer?", multiline=True, max_length=REASON_MAX
            ),
        ],
    }


def field_value(view: JSON, block: str) -> str:
    return _value(view.get("state", {}).get("values", {}), block)


def build_reveal_modal(env: EnvInfo, secrets: Mapping[str, str]) -> JSON:
    """The one place secrets are shown: to the person who clicked Reveal, once."""
    rows = [f"*{escape(name)}:* `{escape(value)}`" for name, value in sorted(secrets.items())]
    blocks = []
    chunk: list[str] = []
    for row in rows:
        if sum(len(r) + 1 for r in chunk) + len(row) > SECTION_TEXT_LIMIT - 10:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(row[: SECTION_TEXT_LIMIT - 10])
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    blocks = blocks[:90]
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Shown once: the bot has deleted its copy. Closing this loses them.",
                }
            ],
        }
    )
    return {
        "type": "modal",
        "title": _text(env.name[:24]),
        "close": _text("Done"),
        "blocks": blocks,
    }


def reason_problem(reason: str) -> str | None:
    return f"At most {REASON_MAX} characters." if len(reason) > REASON_MAX else None
