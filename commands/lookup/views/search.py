"""Catalog search results, and the "which one?" menu when a name matches several entities."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.core.errors import InvalidInput
from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, truncate
from commands.lookup.ids import ActionId, BlockId
from commands.lookup.service.types import Ambiguous, SearchResult
from commands.lookup.views.blocks import Blocks, dump, md
from commands.lookup.views.markdown import to_mrkdwn
from commands.lookup.views.text import join_limited

MAX_OPTIONS = 100
OPTION_LABEL_LENGTH = 75
OPTION_VALUE_LENGTH = 150
SEARCH_DESCRIPTION_LENGTH = 150
SEARCH_HINT = (
    "`/platform service NAME` shows one of them in full. Narrow a search with "
    "`kind:`, `type:`, `owner:` or `lifecycle:`, e.g. `payments kind:api owner:payments`."
)


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
        return header, dump([SectionBlock(text=md(header))])
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
        SectionBlock(text=md(header + "\n" + join_limited(lines, room, sep="\n"))),
        ContextBlock(elements=[md(SEARCH_HINT)]),
    ]
    return header, dump(blocks)


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
        text=md(text),
        accessory=StaticSelectElement(
            action_id=ActionId.PICK_ENTITY, placeholder="Choose one", options=shown
        ),
    )
    return truncate(error.message, SECTION_TEXT_LIMIT), dump([section])


def parse_pick(value: str) -> tuple[str, str]:
    command, sep, ref = value.partition("|")
    if not sep or not ref:
        raise InvalidInput("That choice is no longer valid; run the command again.")
    return command, ref
