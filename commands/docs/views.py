"""Block Kit for `/platform docs` (pure builders and the one parser).

Page titles, breadcrumbs and snippets come from Markdown files anyone with repository
access edits: everything is escaped; the only markup the bot adds is the link (to the
configured site) and bold around the words the search engine highlighted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.errors import InvalidInput
from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, escape_truncated, truncate
from commands.docs.ids import ActionId
from commands.docs.models import PATH_LIMIT
from commands.docs.service.index import RefreshOutcome, SearchResult
from commands.docs.service.markdown import HIGHLIGHT_START, HIGHLIGHT_STOP
from commands.docs.service.votes import PageVotes

Blocks = list[dict[str, Any]]
SNIPPET_CHARS = 400
QUERY_SHOWN = 100
PROBLEMS_SHOWN = 10
_MARKS = re.compile(f"([{HIGHLIGHT_START}{HIGHLIGHT_STOP}])")


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT))


def _dump(blocks: Sequence[Block]) -> Blocks:
    return [block.to_dict() for block in blocks]


def snippet_mrkdwn(snippet: str, limit: int = SNIPPET_CHARS) -> str:
    """The engine's snippet as mrkdwn: highlighted words bold, everything escaped, bounded."""
    out: list[str] = []
    bold = False
    used = 0
    for piece in _MARKS.split(snippet):
        if piece in (HIGHLIGHT_START, HIGHLIGHT_STOP):
            bold = piece == HIGHLIGHT_START
            continue
        # A page's own asterisks would pair with the bot's bold: shown as a look-alike.
        piece = piece.replace("*", "\u2217").replace("\n", " ")
        if not piece or used >= limit:
            continue
        piece = piece[: limit - used]
        used += len(piece)
        word = piece.strip()
        if bold and word:
            # Bold needs the asterisks against the word itself, spaces kept outside.
            lead, trail = piece[: len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()) :]
            out.append(f"{lead}*{escape(word)}*{trail}")
        else:
            out.append(escape(piece))
    text = " ".join("".join(out).split())
    return text + ("…" if used >= limit else "")


def _vote_value(tree: str, path: str) -> str:
    return json.dumps({"t": tree, "p": path}, separators=(",", ":"))


def parse_vote(value: str) -> tuple[str, str]:
    """The (tree, path) a "Was this helpful?" button names."""
    try:
        data = json.loads(value)
        tree, path = data["t"], data["p"]
    except (ValueError, TypeError, KeyError):
        raise InvalidInput("That button is from an older answer; search again.") from None
    if not isinstance(tree, str) or not isinstance(path, str) or len(path) > PATH_LIMIT:
        raise InvalidInput("That button is from an older answer; search again.")
    return tree, path


def build_results(result: SearchResult, sites: Sequence[tuple[str, str]]) -> tuple[str, Blocks]:
    query = escape_truncated(" ".join(result.query.split()), QUERY_SHOWN)
    if not result.hits:
        return build_empty(result, sites)
    text = f"Docs for “{query}”: {len(result.hits)} best pages"
    blocks: list[Block] = [SectionBlock(text=_md(f"*Docs for “{query}”*"))]
    for number, hit in enumerate(result.hits):
        title = escape_truncated(hit.title, 150).replace("|", "¦")
        heading = f"*<{hit.url}|{title}>*" if hit.url else f"*{title}*"
        crumb = escape_truncated(hit.breadcrumb, 300)
        snippet = snippet_mrkdwn(hit.snippet)
        body = f"{heading}\n{crumb}" + (f"\n{snippet}" if snippet else "")
        value = _vote_value(hit.tree, hit.path)
        blocks += [
            SectionBlock(text=_md(body)),
            ActionsBlock(
                block_id=f"docs_vote_{number}",
                elements=[
                    ButtonElement(text="Yes", action_id=ActionId.HELPFUL, value=value),
                    ButtonElement(text="No", action_id=ActionId.NOT_HELPFUL, value=value),
                ],
            ),
            ContextBlock(elements=[_md("Was this helpful?")]),
        ]
    return text, _dump(blocks)


def build_empty(result: SearchResult, sites: Sequence[tuple[str, str]]) -> tuple[str, Blocks]:
    query = escape_truncated(" ".join(result.query.split()), QUERY_SHOWN)
    if not result.terms:
        text = "Search the docs for what? e.g. `/platform docs new database`"
    else:
        text = (
            f"No docs page matches “{query}”. Try fewer or broader words "
            "(e.g. `/platform docs database`)."
        )
    links = ", ".join(f"<{url}|{escape_truncated(name, 80)}>" for name, url in sites[:5])
    blocks: list[Block] = [SectionBlock(text=_md(text))]
    if links:
        blocks.append(ContextBlock(elements=[_md(f"Or browse the docs: {links}")]))
    return text, _dump(blocks)


def build_not_indexed_yet() -> str:
    return "The docs index is still being built; try again in a minute."


def build_vote_thanks(title: str | None, helpful: bool) -> str:
    if title is None:
        return "That page is no longer in the docs index; search again for its new place."
    what = "helpful" if helpful else "not helpful"
    return f"Thanks: noted that “{escape_truncated(title, 150)}” was {what}."


def build_refresh_started() -> str:
    return "Refreshing the docs index. I'll DM you the result."


def build_refresh_result(outcome: RefreshOutcome) -> tuple[str, Blocks]:
    text = (
        f"Docs index refreshed in {outcome.seconds:.1f} s: {outcome.pages:,} pages "
        f"({outcome.added:,} added, {outcome.updated:,} updated, {outcome.removed:,} removed, "
        f"{outcome.unchanged:,} unchanged)."
    )
    lines = [
        f"• `{escape(tree)}` `{escape(p.path[:200])}`: {escape(p.problem)}"
        for tree, p in outcome.problems[:PROBLEMS_SHOWN]
    ]
    hidden = len(outcome.problems) - len(lines)
    if hidden > 0:
        lines.append(f"…and {hidden:,} more (see `/platform docs stats` and the bot's log)")
    report = text + ("\nSkipped:\n" + "\n".join(lines) if lines else "")
    return text, _dump([SectionBlock(text=_md(report))])


def build_stats(
    pages: int, votes: Sequence[PageVotes], problems: int, shown: Sequence[tuple[str, str, str]]
) -> tuple[str, Blocks]:
    text = f"Docs: {pages:,} pages indexed; {problems:,} files skipped at the last refresh."
    blocks: list[Block] = [SectionBlock(text=_md(f"*{text}*"))]
    if votes:
        lines = []
        for v in votes:
            name = escape_truncated(v.title or v.path, 120).replace("|", "¦")
            label = f"<{v.url}|{name}>" if v.url else f"{name} (no longer indexed)"
            lines.append(f"• {label}: {v.no} no, {v.yes} yes")
        blocks.append(
            SectionBlock(text=_md("*Least helpful pages (90 days)*\n" + "\n".join(lines)))
        )
    else:
        blocks.append(SectionBlock(text=_md("No one has answered “Was this helpful?” yet.")))
    if shown:
        lines = [f"• `{escape(t)}` `{escape(p[:200])}`: {escape(why)}" for t, p, why in shown]
        blocks.append(SectionBlock(text=_md("*Skipped files*\n" + "\n".join(lines))))
    return text, _dump(blocks)
