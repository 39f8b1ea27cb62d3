"""What `/platform catalog refresh` says: that it started, and the report DMed afterwards."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape
from commands.lookup.service.catalog_index import RefreshOutcome
from commands.lookup.views.blocks import Blocks, dump, md
from commands.lookup.views.text import join_limited

PROBLEMS_SHOWN = 15


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
        skipped = outcome.problem_count or len(outcome.problems)
        intro = f"\n{skipped:,} entries were skipped:\n"
        lines = [
            f"• `{escape(p.source[:300])}`: {escape(p.reason[:500])}"
            for p in outcome.problems[:PROBLEMS_SHOWN]
        ]
        hidden = skipped - len(lines)
        room = SECTION_TEXT_LIMIT - len(text) - len(intro)
        report += intro + join_limited(lines, room, hidden=hidden, sep="\n")
        if hidden:
            blocks.append(ContextBlock(elements=[md("The bot's log lists every one.")]))
    return text, dump([SectionBlock(text=md(report)), *blocks])
