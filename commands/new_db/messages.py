"""Block Kit for the feature's messages: the request card, the approval, progress, hand-off,
expiry warnings and the `dbs` listing (pure builders; the modals are in views.py).

No builder here takes a secret: a wrapped Vault token is single-use and bound to the
requester's DM by the notifier, and the credentials themselves only ever go to the
requester's reveal modal (`views.build_reveal_modal`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.mrkdwn import escape
from commands.new_db.domain import STEPS, RequestInfo, ResourceInfo, Step
from commands.new_db.ids import ActionId, BlockId, PolicyAction
from commands.new_db.models import RequestStatus
from integrations.protocols import WrappedSecret

JSON = dict[str, Any]
# Reveal buttons in one `dbs` answer; a message holds at most 50 blocks.
REVEAL_BUTTONS_MAX = 10


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _describe(info: RequestInfo) -> str:
    r = info.resource
    verb = "New" if info.action == PolicyAction.CREATE else "Drop"
    lines = [
        f"*{verb} {r.engine_label}* `{r.name}`",
        f"Tier: *{r.tier}* · Team: *{r.team}* · Plan: *{r.plan}*"
        + (f" · TTL: {info.ttl_hours:g} h" if info.ttl_hours else ""),
        f"Requested by <@{info.requester_id}>",
    ]
    if info.reason:
        lines.append(f"Reason: {info.reason[:500]}")
    return "\n".join(lines)


def _status_line(info: RequestInfo) -> str:
    status = RequestStatus(info.status)
    approved = ", ".join(f"<@{u}>" for u in info.approved_by) or "nobody yet"
    if status is RequestStatus.PENDING:
        return (
            f":hourglass: Waiting for approval: {len(info.approved_by)} of "
            f"{info.approvals_needed} ({approved}); expires {_when(info.expires_at)}."
        )
    if status is RequestStatus.DENIED:
        who = ", ".join(f"<@{u}>: {why or 'no reason'}" for u, why in info.denied_by)
        return f":no_entry: Denied by {who}."
    if status is RequestStatus.EXPIRED:
        return f":alarm_clock: Expired without enough approvals ({approved}); denied."
    if status is RequestStatus.APPROVED:
        extra = f" by {approved}" if info.approved_by else ""
        return f":white_check_mark: Approved{extra}; in progress."
    if status is RequestStatus.COMPLETED:
        return ":white_check_mark: Done."
    return f":x: Failed: {info.outcome_detail or 'see the thread'}"


def build_request_card(info: RequestInfo) -> list[JSON]:
    return [
        SectionBlock(text=MarkdownTextObject(text=_describe(info)[:3000])).to_dict(),
        ContextBlock(elements=[MarkdownTextObject(text=_status_line(info))]).to_dict(),
    ]


def build_approval(info: RequestInfo) -> list[JSON]:
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=_describe(info)[:3000])),
        ContextBlock(elements=[MarkdownTextObject(text=_status_line(info))]),
    ]
    if info.status == RequestStatus.PENDING:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.DECISION,
                elements=[
                    ButtonElement(
                        text="Approve", action_id=ActionId.APPROVE, value=info.id, style="primary"
                    ),
                    ButtonElement(
                        text="Deny", action_id=ActionId.DENY, value=info.id, style="danger"
                    ),
                ],
            )
        )
    return [block.to_dict() for block in blocks]


def approval_text(info: RequestInfo) -> str:
    r = info.resource
    return f"Approval needed: {r.engine_label} {r.name} ({r.tier}, {r.team})"


def build_progress(info: RequestInfo, step: Step, failure: str | None = None) -> list[JSON]:
    current = STEPS.index(step)
    parts = []
    for index, each in enumerate(STEPS):
        if failure is not None and index == current:
            parts.append(f":x: {each}")
        elif index < current or (step is Step.READY and index == current):
            parts.append(f":white_check_mark: {each}")
        elif index == current:
            parts.append(f":hourglass_flowing_sand: *{each}*")
        else:
            parts.append(f"{each}")
    text = " → ".join(parts)
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if failure is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=failure[:1900])]))
    return [block.to_dict() for block in blocks]


def progress_text(info: RequestInfo, step: Step, failure: str | None = None) -> str:
    r = info.resource
    if failure is not None:
        return f"{r.engine_label} {r.name}: failed while {step}"
    return f"{r.engine_label} {r.name}: {step}"


def _with_reveal_button(text: str, resource_id: str) -> JSON:
    return SectionBlock(
        text=MarkdownTextObject(text=text),
        accessory=ButtonElement(
            text="Reveal credentials", action_id=ActionId.REVEAL, value=resource_id, style="primary"
        ),
    ).to_dict()


def build_reveal_offer(info: RequestInfo) -> list[JSON]:
    r = info.resource
    text = (
        f"*{r.engine_label}* `{r.name}` is ready. Its credentials can be shown *once*, to you "
        "only; copy them into your secrets store."
    )
    return [_with_reveal_button(text, r.id)]


def build_revealed_offer(resource: ResourceInfo, revealed_at: datetime) -> list[JSON]:
    """The Reveal offer once used: no button, and when it was used."""
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(resource.engine_label)}* `{escape(resource.name)}` is ready. "
                f"Its credentials were revealed {_when(revealed_at)}; the bot keeps no copy. "
                "If that was not you, tell the platform team."
            )
        ).to_dict()
    ]


def build_wrapped_delivery(info: RequestInfo, wrapped: WrappedSecret, path: str) -> list[JSON]:
    r = info.resource
    minutes = max(1, wrapped.ttl_seconds // 60)
    command = wrapped.unwrap_command.replace("TOKEN", wrapped.token)
    text = (
        f"*{r.engine_label}* `{r.name}` is ready. Its credentials are in the secrets manager "
        f"at `{path}`.\nA one-time token to read them, valid for {minutes} min and usable "
        f"once:\n```{command}```\nIf unwrapping says the token is invalid, someone else used "
        "it: tell the platform team."
    )
    return [SectionBlock(text=MarkdownTextObject(text=text[:3000])).to_dict()]


def build_expiry_warning(resource: ResourceInfo, hours_left: float) -> list[JSON]:
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{resource.engine_label}* `{resource.name}` ({resource.tier}, "
                f"{resource.team}) expires {_when(resource.expires_at)} "
                f"(in about {hours_left:.0f} h) and will then be dropped."
            )
        ).to_dict(),
        ActionsBlock(
            elements=[
                ButtonElement(text="Extend", action_id=ActionId.EXTEND, value=resource.id),
                ButtonElement(
                    text="Drop now", action_id=ActionId.DROP_NOW, value=resource.id, style="danger"
                ),
            ]
        ).to_dict(),
    ]


def build_listing(
    resources: list[ResourceInfo], revealable: Collection[str] = frozenset()
) -> list[JSON]:
    """The `dbs` answer; a Reveal button for each listed id in `revealable` (up to a limit)."""
    if not resources:
        return [
            SectionBlock(
                text="You and your teams have no databases yet. Try `/platform new-db`."
            ).to_dict()
        ]
    lines = [
        f"• *{r.name}* — {r.engine_label}, {r.tier}, {r.team}, <@{r.owner_id}>, "
        f"{r.status.replace('_', ' ')}, expires {_when(r.expires_at)}"
        for r in resources[:40]
    ]
    blocks = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000])).to_dict()]
    if len(resources) > 40:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"…and {len(resources) - 40} more")]
            ).to_dict()
        )
    return blocks + _reveal_buttons([r for r in resources if r.id in revealable])


def _reveal_buttons(waiting: list[ResourceInfo]) -> list[JSON]:
    """A section with a Reveal button per resource whose credentials were never revealed."""
    blocks = [
        _with_reveal_button(
            f"*{escape(r.name)}* ({escape(r.engine_label)}): its credentials are waiting for "
            "you, shown once.",
            r.id,
        )
        for r in waiting[:REVEAL_BUTTONS_MAX]
    ]
    if len(waiting) > REVEAL_BUTTONS_MAX:
        more = len(waiting) - REVEAL_BUTTONS_MAX
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=f"…and {more} more: reveal some to see the rest.")
                ]
            ).to_dict()
        )
    return blocks
