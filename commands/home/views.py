"""Block Kit of the dashboard: the App Home tab and the `requests` / `approvals` answers.

Pure builders. Every text an item carries is escaped here (features hand over plain text);
people are mentions; `Mrkdwn` fields are the bot's own and shown as they are. Each list shows
its first `shown` items and counts the rest, so a person with hundreds of things gets a view
within Slack's limits (100 blocks, 3,000 characters a section): see `HOME_BLOCKS_MAX`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.dashboard import (
    ApprovalItem,
    Button,
    EventItem,
    RequestItem,
    RequestState,
    ResourceItem,
    SurveyItem,
)
from bot.core.mrkdwn import CONTEXT_TEXT_LIMIT, SECTION_TEXT_LIMIT, escape, truncate
from bot.core.router import Subcommand
from commands.home.ids import ActionId, BlockId
from commands.home.service import Dashboard, Overview

JSON = dict[str, Any]
HOME_BLOCKS_MAX = 100
MESSAGE_BLOCKS_MAX = 50
BUTTON_TEXT_MAX = 75
QUICK_ACTIONS_MAX = 25  # elements in one actions block
CHAT_APPROVALS_MAX = 20  # two blocks each in a message of at most 50
_ItemT = TypeVar("_ItemT")


def _text(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT))


def _section(text: str, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(text=_text(text), accessory=accessory)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_LIMIT))])


def _button(button: Button) -> ButtonElement:
    return ButtonElement(
        text=button.label[:BUTTON_TEXT_MAX],
        action_id=button.action_id,
        value=button.value[:2000],
        style=button.style if button.style in ("primary", "danger") else None,
    )


def _date(moment: datetime) -> str:
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def countdown(until: datetime, now: datetime) -> str:
    """ "in 3 d 4 h", "in 5 h 10 min", "in 12 min", or "now" once it has passed."""
    minutes = int((until - now).total_seconds() // 60)
    if minutes <= 0:
        return "now"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"in {days} d {hours} h"
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min"


def cost_text(amount: float | None, currency: str) -> str:
    return "" if amount is None else f"{amount:,.2f} {escape(currency)}/month"


def _more(total: int, shown: int, command: str) -> list[Block]:
    if total <= shown:
        return []
    return [_context(f"…and {total - shown} more: `{command}` lists them all.")]


def _listed(
    title: str,
    items: Sequence[_ItemT],
    shown: int,
    render: Callable[[int, _ItemT], list[Block]],
    *,
    empty: str,
    more: str,
) -> list[Block]:
    blocks: list[Block] = [_section(f"*{title}*")]
    if not items:
        return [*blocks, _context(empty)]
    for index, item in enumerate(items[:shown]):
        blocks.extend(render(index, item))
    return [*blocks, *_more(len(items), shown, more)]


def _resource_blocks(index: int, item: ResourceItem, now: datetime) -> list[Block]:
    facts = [escape(item.kind), escape(item.status), escape(item.tier), escape(item.team)]
    if item.expires_at is not None:
        facts.append(f"expires {countdown(item.expires_at, now)} ({_date(item.expires_at)})")
    if item.monthly_cost is not None:
        facts.append(cost_text(item.monthly_cost, item.currency))
    blocks: list[Block] = [_section(f"*{escape(item.name)}* · " + " · ".join(facts))]
    if item.buttons:
        blocks.append(
            ActionsBlock(
                block_id=f"{BlockId.RESOURCE}{index}",
                elements=[_button(b) for b in item.buttons[:5]],
            )
        )
    return blocks


def _request_text(item: RequestItem) -> str:
    line = f"`{escape(item.ref)}` {escape(item.what)} · *{item.state}*"
    if item.state is RequestState.PENDING:
        line += f" · {escape(item.approvals)}"
        if item.approvers:
            line += f"; who can approve: {item.approvers}"
    elif item.detail:
        line += f" · {escape(item.detail)}"
    return line


def _request_blocks(index: int, item: RequestItem) -> list[Block]:
    cancel = None
    if item.cancellable:
        cancel = ButtonElement(
            text="Cancel", action_id=ActionId.CANCEL, value=item.request_id[:2000]
        )
    return [
        SectionBlock(
            block_id=f"{BlockId.REQUEST}{index}", text=_text(_request_text(item)), accessory=cancel
        )
    ]


def _approval_text(item: ApprovalItem) -> str:
    text = f"<@{item.requester_id}> asks to {escape(item.what)} · {escape(item.approvals)}"
    if item.reason:
        text += f"\nReason: {escape(item.reason)}"
    return text


def _approval_blocks(index: int, item: ApprovalItem) -> list[Block]:
    blocks: list[Block] = [_section(_approval_text(item))]
    if item.buttons:
        blocks.append(
            ActionsBlock(
                block_id=f"{BlockId.APPROVAL}{index}",
                elements=[_button(b) for b in item.buttons[:5]],
            )
        )
    return blocks


def _event_line(item: EventItem) -> str:
    when = _date(item.starts_at)
    if item.ends_at is not None:
        when += f" to {_date(item.ends_at)}"
    what = escape(item.what)
    if item.link and item.link.startswith("https://") and "|" not in item.link:
        what = f"<{escape(item.link)}|{what}>"
    return f"• {what}: {when}"


def _lines(title: str, lines: Sequence[str], shown: int, empty: str) -> list[Block]:
    if not lines:
        return [_section(f"*{title}*"), _context(empty)]
    text = "\n".join(lines[:shown])
    if len(lines) > shown:
        text += f"\n…and {len(lines) - shown} more."
    return [_section(f"*{title}*\n{text}")]


def _overview_blocks(overview: Overview) -> list[Block]:
    return [
        _section(
            "*Platform today*\n"
            f"• Approvals pending: *{overview.pending_approvals}*\n"
            f"• Failed jobs: *{overview.failed_jobs}*\n"
            f"• Commands run: *{overview.commands}* by *{overview.people}* people"
        ),
        DividerBlock(),
    ]


def _commands_text(commands: Sequence[Subcommand]) -> str:
    lines = [f"• `/platform {c.name}`: {escape(c.summary)}" for c in commands]
    return "*What you can do*\n" + ("\n".join(lines) or "Nothing yet: ask the platform team.")


def _survey_blocks(index: int, survey: SurveyItem) -> list[Block]:
    """One button beside the question; a row of them (a 1-5 rating) under it."""
    if len(survey.buttons) <= 1:
        accessory = _button(survey.buttons[0]) if survey.buttons else None
        return [_section(escape(survey.what), accessory)]
    return [
        _section(escape(survey.what)),
        ActionsBlock(
            block_id=f"{BlockId.SURVEY}{index}",
            elements=[_button(b) for b in survey.buttons[:5]],
        ),
    ]


def _surveys_blocks(surveys: Sequence[SurveyItem], shown: int) -> list[Block]:
    blocks: list[Block] = [_section("*Surveys waiting for your answer*")]
    for index, survey in enumerate(surveys[:shown]):
        blocks += _survey_blocks(index, survey)
    if len(surveys) > shown:
        blocks.append(_context(f"…and {len(surveys) - shown} more in your DMs with me."))
    return blocks


def build_home(dashboard: Dashboard, commands: Sequence[Subcommand], *, shown: int) -> View:
    """The App Home tab: the person's things, what waits on them, and what they can do."""
    items, now = dashboard.items, dashboard.now
    blocks: list[Block] = [HeaderBlock(text="Your platform")]
    if dashboard.overview is not None:
        blocks += _overview_blocks(dashboard.overview)
    blocks += _listed(
        "Waiting for your approval",
        items.approvals,
        shown,
        _approval_blocks,
        empty="Nothing is waiting for you.",
        more="/platform approvals",
    )
    blocks += [DividerBlock()]
    blocks += _listed(
        "Your requests",
        items.requests,
        shown,
        _request_blocks,
        empty="No open requests.",
        more="/platform requests",
    )
    blocks += [DividerBlock()]
    blocks += _listed(
        "Your resources and environments",
        items.resources,
        shown,
        lambda index, item: _resource_blocks(index, item, now),
        empty="You have none yet: start with a quick action below.",
        more="/platform dbs` or `/platform env list",
    )
    blocks += [DividerBlock()]
    blocks += _lines(
        "Your on-call shifts (next 14 days)",
        [_event_line(s) for s in items.shifts],
        shown,
        escape(items.shifts_note) or "No shifts.",
    )
    if items.shifts and items.shifts_note:
        blocks.append(_context(escape(items.shifts_note)))
    if items.surveys:
        blocks += _surveys_blocks(items.surveys, shown)
    if items.sessions:
        blocks += _lines("Office hours", [_event_line(s) for s in items.sessions], 1, "")
    blocks += _quick_actions(items.quick_actions)
    blocks += [DividerBlock(), _section(_commands_text(commands))]
    return View(type="home", blocks=_within(blocks, HOME_BLOCKS_MAX))


def _quick_actions(buttons: Sequence[Button]) -> list[Block]:
    if not buttons:
        return []
    return [
        DividerBlock(),
        _section("*Quick actions*"),
        ActionsBlock(
            block_id=BlockId.QUICK_ACTIONS,
            elements=[_button(b) for b in buttons[:QUICK_ACTIONS_MAX]],
        ),
    ]


def _within(blocks: list[Block], limit: int) -> list[Block]:
    """At most `limit` blocks; the last one says the view was cut (never reached with the
    configured list sizes, kept so that no future list can make Slack refuse the view)."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], _context("…more than fits here: see `/platform requests`.")]


def build_requests(requests: Sequence[RequestItem]) -> tuple[str, list[JSON]]:
    """The `/platform requests` answer: every open (or recently failed) request, with its id."""
    if not requests:
        return "No open requests", [_section("You have no open requests.").to_dict()]
    lines = [f"• {_request_text(item)}" for item in requests]
    blocks: list[Block] = [_section("*Your requests*"), *_text_sections(lines)]
    if any(item.cancellable for item in requests):
        blocks.append(_context("Cancel one that has not started: `/platform cancel ID`."))
    return f"{len(requests)} request(s)", [b.to_dict() for b in blocks[:MESSAGE_BLOCKS_MAX]]


def build_approvals(approvals: Sequence[ApprovalItem]) -> tuple[str, list[JSON]]:
    """The `/platform approvals` answer: what waits on the person, with Approve and Deny."""
    if not approvals:
        return "Nothing to approve", [_section("Nothing is waiting for your approval.").to_dict()]
    blocks: list[Block] = [_section("*Waiting for your approval*")]
    for index, item in enumerate(approvals[:CHAT_APPROVALS_MAX]):
        blocks += _approval_blocks(index, item)
    if len(approvals) > CHAT_APPROVALS_MAX:
        blocks.append(_context(f"…and {len(approvals) - CHAT_APPROVALS_MAX} more."))
    return f"{len(approvals)} approval(s) waiting", [b.to_dict() for b in blocks]


def _text_sections(lines: Sequence[str]) -> list[Block]:
    """`lines` in sections of whole lines, each within the section limit."""
    sections: list[Block] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = truncate(line, SECTION_TEXT_LIMIT)
        if current and size + 1 + len(line) > SECTION_TEXT_LIMIT:
            sections.append(_section("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        sections.append(_section("\n".join(current)))
    return sections


def build_cancel_notice(text: str) -> View:
    """What a Cancel click on the App Home answers (the tab itself cannot show a message)."""
    return View(
        type="modal",
        title="Cancel a request",
        close="OK",
        blocks=[_section(text)],
    )
