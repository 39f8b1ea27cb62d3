"""Block Kit for `/platform stats` (pure builders)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.mrkdwn import SECTION_FIELD_LIMIT, SECTION_TEXT_LIMIT, escape, truncate
from commands.stats.figures import Figures, Timing

MAX_LINES = 10
USAGE = "/platform stats [7d | 30d | 90d]"


def _field(title: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{title}*\n{value}", SECTION_FIELD_LIMIT))


def _section(title: str, lines: list[str]) -> SectionBlock:
    shown = lines[:MAX_LINES] or ["none in this period"]
    if len(lines) > MAX_LINES:
        shown.append(f"and {len(lines) - MAX_LINES} more")
    text = truncate(f"*{title}*\n" + "\n".join(shown), SECTION_TEXT_LIMIT)
    return SectionBlock(text=MarkdownTextObject(text=text))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _timing(timing: Timing) -> str:
    return (
        f"`{escape(timing.group)}`: p50 {_duration(timing.p50_seconds)}, "
        f"p90 {_duration(timing.p90_seconds)} ({timing.count})"
    )


def _rate(rate: float | None) -> str:
    return "no finished requests" if rate is None else f"{rate:.0%} succeeded"


def build_stats(figures: Figures, *, full: bool) -> list[dict[str, Any]]:
    """The figures of `figures.period`; `full` adds per-team figures and failure reasons."""
    adoption, outcomes = figures.adoption, figures.outcomes
    blocks: list[Any] = [
        HeaderBlock(text=f"Platform stats, last {figures.period.days} days"),
        SectionBlock(
            fields=[
                _field("Weekly active users", str(adoption.weekly_active)),
                _field("Monthly active users", str(adoption.monthly_active)),
                _field("Active in the period", str(adoption.active_in_period)),
                _field("New users", str(adoption.new_users)),
                _field("Command uses", str(adoption.uses)),
            ]
        ),
        _section(
            "Uses per command",
            [f"`/platform {escape(name)}`: {count}" for name, count in adoption.per_command],
        ),
    ]
    if full:
        cut = figures.min_group_size
        blocks.append(
            _section(
                "Uses per team",
                [
                    f"`{escape(t.team)}`: fewer than {cut} people"
                    if t.small
                    else f"`{escape(t.team)}`: {t.uses} uses by {t.users} people"
                    for t in adoption.per_team
                ],
            )
        )
    blocks += [
        DividerBlock(),
        _section(
            "Requests per action",
            [
                f"`{escape(a.action)}`: {a.requested} requested, {_rate(a.success_rate)}"
                for a in outcomes.per_action
            ],
        ),
        _section(
            "Time to provision (request to ready), per engine",
            [_timing(t) for t in outcomes.provision_by_engine],
        ),
        _section(
            "Time to provision, per action", [_timing(t) for t in outcomes.provision_by_action]
        ),
        _section(
            "Approval wait (request to decision)",
            [_timing(outcomes.approval_wait)] if outcomes.approval_wait else [],
        ),
    ]
    if full:
        blocks.append(
            _section(
                "Failures by reason (top 5)",
                [f"{escape(reason)}: {count}" for reason, count in outcomes.failures],
            )
        )
    note = (
        f"Teams with fewer than {figures.min_group_size} active people are not broken down."
        if full
        else "Platform-wide figures; admins also see teams and failure reasons."
    )
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"{note} NPS and CSAT: `/platform nps`.")])
    )
    return [block.to_dict() for block in blocks]
