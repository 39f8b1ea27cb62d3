"""Block Kit for the feature's messages: the request card, the approval, progress, hand-off,
expiry warnings and the `dbs` listing (pure builders; the modals are in modals.py).

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

from bot.core.mrkdwn import (
    CONTEXT_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    escape,
    escape_truncated,
    truncate,
)
from commands.new_db.ids import ActionId, BlockId, PolicyAction
from commands.new_db.models import RequestStatus, ResourceStatus
from commands.new_db.service.types import STEPS, RequestInfo, ResourceInfo, Step
from commands.new_db.views.menus import cost_text
from integrations.provisioning_protocols import WrappedSecret

JSON = dict[str, Any]
RUNNING_STATUSES = (ResourceStatus.PROVISIONING, ResourceStatus.ACTIVE)
# Reveal buttons in one `dbs` answer; a message holds at most 50 blocks.
REVEAL_BUTTONS_MAX = 10
# Rows in one `dbs` answer, fewer when they do not fit one section.
LISTED_MAX = 40


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _describe(info: RequestInfo) -> str:
    r = info.resource
    verb = "New" if info.action == PolicyAction.CREATE else "Drop"
    lines = [
        f"*{verb} {escape(r.engine_label)}* `{escape(r.name)}`",
        f"Tier: *{escape(r.tier)}* · Team: *{escape(r.team)}* · Plan: *{escape(r.plan)}*"
        + (f" ({cost_text(r.monthly_cost, r.currency)})" if r.monthly_cost is not None else "")
        + (f" · TTL: {info.ttl_hours:g} h" if info.ttl_hours else ""),
        f"Requested by <@{info.requester_id}>",
    ]
    if info.reason:
        # Escaping can make a reason of the longest allowed length several times longer: it
        # is shown whole, and only the finished text is cut to the section's limit.
        lines.append(f"Reason: {escape(info.reason)}")
    return truncate("\n".join(lines), SECTION_TEXT_LIMIT)


def _status_line(info: RequestInfo) -> str:
    status = RequestStatus(info.status)
    approved = ", ".join(f"<@{u}>" for u in info.approved_by) or "nobody yet"
    if status is RequestStatus.PENDING:
        line = (
            f":hourglass: Waiting for approval: {len(info.approved_by)} of "
            f"{info.approvals_needed} ({approved}); expires {_when(info.expires_at)}."
        )
    elif status is RequestStatus.DENIED:
        who = ", ".join(f"<@{u}>: {escape(why or 'no reason')}" for u, why in info.denied_by)
        line = f":no_entry: Denied by {who}."
    elif status is RequestStatus.EXPIRED:
        line = f":alarm_clock: Expired without enough approvals ({approved}); denied."
    elif status is RequestStatus.APPROVED:
        extra = f" by {approved}" if info.approved_by else ""
        line = f":white_check_mark: Approved{extra}; in progress."
    elif status is RequestStatus.CANCELLED:
        line = f":no_entry_sign: Cancelled by <@{info.requester_id}>; nothing was done."
    elif status is RequestStatus.COMPLETED:
        line = (
            ":wastebasket: Dropped."
            if info.action == PolicyAction.DROP
            else ":white_check_mark: Done: ready."
        )
    else:
        line = f":x: Failed: {escape(info.outcome_detail or 'see the thread')}"
    return truncate(line, CONTEXT_TEXT_LIMIT)


def build_request_card(info: RequestInfo) -> list[JSON]:
    return [
        SectionBlock(text=MarkdownTextObject(text=_describe(info))).to_dict(),
        ContextBlock(elements=[MarkdownTextObject(text=_status_line(info))]).to_dict(),
    ]


def build_approval(info: RequestInfo) -> list[JSON]:
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=_describe(info))),
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
    return escape(f"Approval needed: {r.engine_label} {r.name} ({r.tier}, {r.team})")


def request_text(info: RequestInfo) -> str:
    """The request card's notification text."""
    return escape(f"Your request: {info.resource.engine_label} {info.resource.name}")


def _reissued(info: RequestInfo) -> bool:
    return info.action == PolicyAction.ROTATE


def ready_text(info: RequestInfo) -> str:
    r = info.resource
    if _reissued(info):
        return escape(f"New credentials for {r.engine_label} {r.name} are ready")
    return escape(f"{r.engine_label} {r.name} is ready")


def _ready_line(info: RequestInfo) -> str:
    """How the hand-off DM begins: a new resource, or new credentials for a running one."""
    r = info.resource
    if _reissued(info):
        return f"New credentials for *{escape(r.engine_label)}* `{escape(r.name)}` are ready."
    return f"*{escape(r.engine_label)}* `{escape(r.name)}` is ready."


def extended_text(resource: ResourceInfo) -> str:
    """The confirmation of an extension: the new expiry, in the reader's time zone."""
    return (
        f"{escape(resource.engine_label)} `{escape(resource.name)}` ({escape(resource.tier)}, "
        f"{escape(resource.team)}) now expires {_when(resource.expires_at)}."
    )


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
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=escape_truncated(failure, CONTEXT_TEXT_LIMIT))]
            )
        )
    return [block.to_dict() for block in blocks]


def progress_text(info: RequestInfo, step: Step, failure: str | None = None) -> str:
    r = info.resource
    if failure is not None:
        return escape(f"{r.engine_label} {r.name}: failed while {step}")
    return escape(f"{r.engine_label} {r.name}: {step}")


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
        f"{_ready_line(info)} {'They' if _reissued(info) else 'Its credentials'} can be shown "
        "*once*, to you only; copy them into your secrets store."
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
    minutes = max(1, wrapped.ttl_seconds // 60)
    command = wrapped.unwrap_command.replace("TOKEN", wrapped.token)
    text = (
        f"{_ready_line(info)} {'They' if _reissued(info) else 'Its credentials'} are in the "
        f"secrets manager at `{escape(path)}`.\nA one-time token to read them, valid for "
        f"{minutes} min and usable once:\n```{escape(command)}```\nIf unwrapping says the "
        "token is invalid, someone else used it: tell the platform team."
    )
    return [
        SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT))).to_dict()
    ]


def build_expiry_warning(resource: ResourceInfo, hours_left: float) -> list[JSON]:
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(resource.engine_label)}* `{escape(resource.name)}` "
                f"({escape(resource.tier)}, {escape(resource.team)}) "
                f"expires {_when(resource.expires_at)} "
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
    lines = _whole_lines(
        [
            f"• *{escape(r.name)}* — {escape(r.engine_label)}, {escape(r.tier)}, "
            f"{escape(r.team)}, <@{r.owner_id}>, "
            f"{r.status.replace('_', ' ')}, expires {_when(r.expires_at)}"
            for r in resources[:LISTED_MAX]
        ],
        SECTION_TEXT_LIMIT,
    )
    blocks = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines))).to_dict()]
    if len(resources) > len(lines):
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"…and {len(resources) - len(lines)} more")]
            ).to_dict()
        )
    cost = _running_cost(resources)
    if cost is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cost)]).to_dict())
    return blocks + _reveal_buttons([r for r in resources if r.id in revealable])


def _running_cost(resources: list[ResourceInfo]) -> str | None:
    """What the running ones with a priced plan cost together, listed or not."""
    priced = [r for r in resources if r.monthly_cost is not None and r.status in RUNNING_STATUSES]
    if not priced:
        return None
    total = sum(r.monthly_cost or 0 for r in priced)
    count = "1 running database" if len(priced) == 1 else f"{len(priced)} running databases"
    return f"Cost: {cost_text(total, priced[0].currency)} for the {count} with a priced plan."


def _whole_lines(lines: list[str], limit: int) -> list[str]:
    """The first `lines` whose text fits `limit`: a row cut in the middle would show a date or
    a mention as raw markup, and the rows left out are counted instead."""
    kept: list[str] = []
    size = -1  # no newline before the first line
    for line in lines:
        size += 1 + len(line)
        if size > limit:
            break
        kept.append(line)
    return kept or [truncate(lines[0], limit)]


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
