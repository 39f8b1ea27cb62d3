"""The lookup answers: who owns an entity, who is on call for it, and its service card.

Catalog text reaches these cards through `text` and `markdown` (escaped, lists cut with
"and N more"), and every text object is cut to its Block Kit limit with
`bot.core.mrkdwn.truncate`, which never breaks a link or mention.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core.mrkdwn import (
    CONTEXT_TEXT_LIMIT,
    SECTION_FIELD_LIMIT,
    SECTION_TEXT_LIMIT,
    escape,
    truncate,
)
from bot.core.runbook_links import RunbookLink
from commands.lookup.ids import ActionId, BlockId
from commands.lookup.service.types import OnCallResult, Ownership, ServiceCard
from commands.lookup.views.blocks import Blocks, dump, field, md
from commands.lookup.views.markdown import to_mrkdwn
from commands.lookup.views.text import (
    channel,
    join_limited,
    links_text,
    members_text,
    oncall_lines,
    stale_note,
    team_text,
)

_FIELD_VALUE = SECTION_FIELD_LIMIT - len("*Next on call*\n")
RUNBOOKS_SHOWN = 5
_RUNBOOKS_HEAD = "*Runbooks:* "


def build_owner(answer: Ownership) -> tuple[str, Blocks]:
    entity, owner, person = answer.entity, answer.owner, answer.owner_person
    if entity.kind in ("group", "user"):
        what = "a team" if entity.kind == "group" else "a person"
        whose = "teams" if entity.kind == "group" else "people"
        plain = f"{escape(entity.label)} is {what}, not a service: {whose} own services"
        text = f"*{escape(entity.label)}* is {what}, not a service: {whose} own services."
        team_channel = channel(owner.channel) if owner else None
        if team_channel:
            text += f" Channel: {team_channel}"
    elif owner is None and person is None:
        plain = f"{entity.name} has no owner in the catalog"
        text = f"*{entity.name}* ({entity.kind}) has no owner in the catalog."
    else:
        who = person.name if person is not None else owner.label if owner else ""
        plain = f"{entity.name} is owned by {escape(who)}"
        text = f"*{entity.name}* ({entity.kind}) is owned by {team_text(owner, person)}."
    members = members_text(owner, SECTION_TEXT_LIMIT - len(text) - len("\nMembers: "))
    if members:
        text += f"\nMembers: {members}"
    return plain, dump([SectionBlock(text=md(text))])


def build_oncall(answer: OnCallResult, tz: str | None) -> tuple[str, Blocks]:
    entity, oncall = answer.entity, answer.oncall
    now, following = oncall_lines(oncall, tz, SECTION_TEXT_LIMIT // 3)
    where = ""
    if oncall is not None and oncall.schedule:
        where = f" ({escape(oncall.provider)} `{escape(oncall.schedule[:200])}`)"
    text = f"*On call for {entity.name}*{where}\n*Now:* {now}\n*Next:* {following}"
    team_channel = channel(answer.team.channel) if answer.team is not None else None
    if team_channel:
        text += f"\nTeam channel: {team_channel}"
    blocks: list[Block] = [SectionBlock(text=md(text))]
    note = stale_note(oncall, tz)
    if note:
        blocks.append(ContextBlock(elements=[md(note, CONTEXT_TEXT_LIMIT)]))
    return truncate(f"On call for {entity.name}: {now}", SECTION_TEXT_LIMIT), dump(blocks)


def _card_fields(card: ServiceCard, now: str, following: str) -> list[MarkdownTextObject]:
    entity = card.entity
    kind = entity.kind + (f" · {escape(entity.type)}" if entity.type else "")
    return [
        field("Kind", kind),
        field("Lifecycle", escape(entity.lifecycle or "—")),
        field("System", escape(card.system or "—")),
        field("Owner", team_text(card.owner, card.owner_person)),
        field("On call now", now),
        field("Next on call", following),
    ]


def _card_buttons(card: ServiceCard, *, can_page: bool) -> list[ButtonElement]:
    buttons = []
    if can_page and card.oncall is not None and card.oncall.configured:
        buttons.append(
            ButtonElement(
                text="Page on-call",
                action_id=ActionId.PAGE_ONCALL,
                value=card.entity.ref,
                style="danger",
            )
        )
    if card.catalog_url:
        buttons.append(
            ButtonElement(
                text="Open in catalog", action_id=ActionId.OPEN_IN_CATALOG, url=card.catalog_url
            )
        )
    return buttons


def runbooks_text(runbooks: Sequence[RunbookLink], limit: int = SECTION_TEXT_LIMIT) -> str | None:
    """The service's runbooks as commands to type, the first `RUNBOOKS_SHOWN` of them."""
    if not runbooks:
        return None
    items = [
        f"`/platform runbook run {escape(r.name)}` ({escape(r.title)})"
        for r in runbooks[:RUNBOOKS_SHOWN]
    ]
    hidden = len(runbooks) - len(items)
    return _RUNBOOKS_HEAD + join_limited(items, limit - len(_RUNBOOKS_HEAD), hidden=hidden)


def build_service_card(
    card: ServiceCard,
    tz: str | None,
    *,
    can_page: bool,
    runbooks: Sequence[RunbookLink] = (),
) -> tuple[str, Blocks]:
    entity = card.entity
    now, following = oncall_lines(card.oncall, tz, _FIELD_VALUE)
    description = to_mrkdwn(entity.description or "", SECTION_TEXT_LIMIT)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=entity.label[:150])),
        SectionBlock(text=md(description or "_No description in the catalog._")),
        SectionBlock(fields=_card_fields(card, now, following)),
    ]
    members = members_text(card.owner, SECTION_TEXT_LIMIT - len("*Team members:* "))
    if members:
        blocks.append(SectionBlock(text=md(f"*Team members:* {members}")))
    links = links_text(card.links, SECTION_TEXT_LIMIT)
    if links:
        blocks.append(SectionBlock(text=md(links)))
    runbook_line = runbooks_text(runbooks)
    if runbook_line:
        blocks.append(SectionBlock(block_id=BlockId.CARD_RUNBOOKS, text=md(runbook_line)))
    context = stale_note(card.oncall, tz) or f"`{entity.ref}`"
    if entity.tags and context.startswith("`"):
        room = CONTEXT_TEXT_LIMIT - len(context) - len(" · tags: ")
        context += " · tags: " + join_limited([escape(t) for t in entity.tags], room)
    blocks.append(ContextBlock(elements=[md(context, CONTEXT_TEXT_LIMIT)]))
    buttons = _card_buttons(card, can_page=can_page)
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.CARD_ACTIONS, elements=buttons))
    who = card.owner_person.name if card.owner_person else card.owner.label if card.owner else None
    owned = f"owned by {escape(who)}" if who else "no owner in the catalog"
    text = f"{escape(entity.label)}: {owned}; on call now: {now}"
    return truncate(text, SECTION_TEXT_LIMIT), dump(blocks)
