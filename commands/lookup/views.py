"""Block Kit for the lookups: owner, on-call, service card, search, menus and refresh reports.

Catalog text reaches these cards through `view_text` and `markdown` (escaped, lists cut with
"and N more"), and every text object is cut to its Block Kit limit with `bot.mrkdwn.truncate`,
which never breaks a link or mention. The page modals and messages are in `page_views`.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.errors import InvalidInput
from bot.mrkdwn import (
    CONTEXT_TEXT_LIMIT,
    SECTION_FIELD_LIMIT,
    SECTION_TEXT_LIMIT,
    escape,
    truncate,
)
from commands.lookup.answers import (
    Ambiguous,
    OnCallResult,
    Ownership,
    SearchResult,
    ServiceCard,
)
from commands.lookup.catalog_index import RefreshOutcome
from commands.lookup.ids import ActionId, BlockId
from commands.lookup.markdown import to_mrkdwn
from commands.lookup.view_text import (
    channel,
    join_limited,
    links_text,
    members_text,
    oncall_lines,
    stale_note,
    team_text,
    when,
)

__all__ = ["when"]

Blocks = list[dict[str, Any]]
MAX_OPTIONS = 100
OPTION_LABEL_LENGTH = 75
OPTION_VALUE_LENGTH = 150
PROBLEMS_SHOWN = 15
SEARCH_DESCRIPTION_LENGTH = 150
SEARCH_HINT = (
    "`/platform service NAME` shows one of them in full. Narrow a search with "
    "`kind:`, `type:`, `owner:` or `lifecycle:`, e.g. `payments kind:api owner:payments`."
)
_FIELD_VALUE = SECTION_FIELD_LIMIT - len("*Next on call*\n")


def _md(text: str, limit: int = SECTION_TEXT_LIMIT) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(text, limit))


def _field(title: str, value: str) -> MarkdownTextObject:
    return _md(f"*{title}*\n{value}", SECTION_FIELD_LIMIT)


def _dump(blocks: list[Block]) -> Blocks:
    return [block.to_dict() for block in blocks]


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
    return plain, _dump([SectionBlock(text=_md(text))])


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
    blocks: list[Block] = [SectionBlock(text=_md(text))]
    note = stale_note(oncall, tz)
    if note:
        blocks.append(ContextBlock(elements=[_md(note, CONTEXT_TEXT_LIMIT)]))
    return truncate(f"On call for {entity.name}: {now}", SECTION_TEXT_LIMIT), _dump(blocks)


def _card_fields(card: ServiceCard, now: str, following: str) -> list[MarkdownTextObject]:
    entity = card.entity
    kind = entity.kind + (f" · {escape(entity.type)}" if entity.type else "")
    return [
        _field("Kind", kind),
        _field("Lifecycle", escape(entity.lifecycle or "—")),
        _field("System", escape(card.system or "—")),
        _field("Owner", team_text(card.owner, card.owner_person)),
        _field("On call now", now),
        _field("Next on call", following),
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


def build_service_card(card: ServiceCard, tz: str | None, *, can_page: bool) -> tuple[str, Blocks]:
    entity = card.entity
    now, following = oncall_lines(card.oncall, tz, _FIELD_VALUE)
    description = to_mrkdwn(entity.description or "", SECTION_TEXT_LIMIT)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=entity.label[:150])),
        SectionBlock(text=_md(description or "_No description in the catalog._")),
        SectionBlock(fields=_card_fields(card, now, following)),
    ]
    members = members_text(card.owner, SECTION_TEXT_LIMIT - len("*Team members:* "))
    if members:
        blocks.append(SectionBlock(text=_md(f"*Team members:* {members}")))
    links = links_text(card.links, SECTION_TEXT_LIMIT)
    if links:
        blocks.append(SectionBlock(text=_md(links)))
    context = stale_note(card.oncall, tz) or f"`{entity.ref}`"
    if entity.tags and context.startswith("`"):
        room = CONTEXT_TEXT_LIMIT - len(context) - len(" · tags: ")
        context += " · tags: " + join_limited([escape(t) for t in entity.tags], room)
    blocks.append(ContextBlock(elements=[_md(context, CONTEXT_TEXT_LIMIT)]))
    buttons = _card_buttons(card, can_page=can_page)
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.CARD_ACTIONS, elements=buttons))
    who = card.owner_person.name if card.owner_person else card.owner.label if card.owner else None
    owned = f"owned by {escape(who)}" if who else "no owner in the catalog"
    text = f"{escape(entity.label)}: {owned}; on call now: {now}"
    return truncate(text, SECTION_TEXT_LIMIT), _dump(blocks)


def _search_header(result: SearchResult) -> str:
    asked = escape(" ".join(filter(None, (result.query, result.filters))))
    if not result.hits:
        return f"Nothing in the catalog ({result.indexed:,} entries) matches `{asked}`."
    if result.query:
        return f"Top {len(result.hits)} for `{asked}` in the catalog:"
    if result.total > len(result.hits):
        return (
            f"{len(result.hits)} of the {result.total:,} entries with `{asked}` "
            "(add words to narrow it):"
        )
    return f"The {result.total:,} entries with `{asked}`:"


def build_search(result: SearchResult) -> tuple[str, Blocks]:
    header = _search_header(result)
    if not result.hits:
        return header, _dump([SectionBlock(text=_md(header))])
    lines = []
    for number, hit in enumerate(result.hits, start=1):
        entity = hit.entity
        owner = f", owner {escape(hit.owner_label)}" if hit.owner_label else ""
        line = f"{number}. *{entity.name}* ({entity.kind}{owner})"
        summary = to_mrkdwn(entity.description or "", SEARCH_DESCRIPTION_LENGTH, one_line=True)
        if summary:
            line += f": {summary}"
        lines.append(line)
    room = SECTION_TEXT_LIMIT - len(header) - 1
    blocks: list[Block] = [
        SectionBlock(text=_md(header + "\n" + join_limited(lines, room, sep="\n"))),
        ContextBlock(elements=[_md(SEARCH_HINT)]),
    ]
    return header, _dump(blocks)


def build_ambiguous(error: Ambiguous, command: str) -> tuple[str, Blocks]:
    options = [
        Option(
            text=f"{c.label} ({c.kind}, {c.namespace})"[:OPTION_LABEL_LENGTH],
            value=f"{command}|{c.ref}",
        )
        for c in error.candidates
        if len(command) + 1 + len(c.ref) <= OPTION_VALUE_LENGTH
    ]
    shown = options[:MAX_OPTIONS]
    query = escape(error.query)
    text = f"`{query}` matches {len(error.candidates):,} entries. Which one?"
    if len(shown) < len(error.candidates):
        first = error.candidates[0]
        text = (
            f"`{query}` matches {len(error.candidates):,} entries; the menu shows the first "
            f"{len(shown)} ({len(error.candidates) - len(shown):,} more). Pick one, or narrow "
            f"it: `/platform catalog {query} kind:{first.kind} owner:TEAM`, or a full "
            f"reference such as `{first.ref}`."
        )
    section = SectionBlock(
        block_id=BlockId.PICK,
        text=_md(text),
        accessory=StaticSelectElement(
            action_id=ActionId.PICK_ENTITY, placeholder="Choose one", options=shown
        ),
    )
    return truncate(error.message, SECTION_TEXT_LIMIT), _dump([section])


def parse_pick(value: str) -> tuple[str, str]:
    command, sep, ref = value.partition("|")
    if not sep or not ref:
        raise InvalidInput("That choice is no longer valid; run the command again.")
    return command, ref


def build_refresh_started() -> str:
    return "Refreshing the catalog index. I'll DM you the result."


def build_refresh_result(outcome: RefreshOutcome) -> tuple[str, Blocks]:
    text = (
        f"Catalog refreshed from {escape(outcome.provider)}: {outcome.entity_count:,} entities "
        f"in {outcome.seconds:.1f} s."
    )
    blocks: list[Block] = []
    report = text
    if outcome.problems:
        intro = f"\n{len(outcome.problems):,} entries were skipped:\n"
        lines = [
            f"• `{escape(p.source[:300])}`: {escape(p.reason[:500])}"
            for p in outcome.problems[:PROBLEMS_SHOWN]
        ]
        hidden = len(outcome.problems) - len(lines)
        room = SECTION_TEXT_LIMIT - len(text) - len(intro)
        report += intro + join_limited(lines, room, hidden=hidden, sep="\n")
        if hidden:
            blocks.append(ContextBlock(elements=[_md("The bot's log lists every one.")]))
    return text, _dump([SectionBlock(text=_md(report)), *blocks])


def build_refresh_failed(message: str) -> str:
    return f"The catalog refresh failed: {escape(message)}"
