"""Block Kit for `/platform stats` (pure builders)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.feedback_trends import CsatWeek, NpsRoundResult
from bot.core.mrkdwn import SECTION_FIELD_LIMIT, SECTION_TEXT_LIMIT, escape, truncate
from commands.stats.figures import Feedback, Figures, Outcomes, Timing

MAX_LINES = 10
MAX_WEEKS = 13  # a 90-day period: twelve weeks and six days
MAX_ACTIONS_PER_WEEK = 5
USAGE = "/platform stats [7d | 30d | 90d]"


def _field(title: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(f"*{title}*\n{value}", SECTION_FIELD_LIMIT))


def _section(title: str, lines: list[str], *, limit: int = MAX_LINES) -> SectionBlock:
    shown = lines[:limit] or ["none in this period"]
    if len(lines) > limit:
        shown.append(f"and {len(lines) - limit} more")
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


def _nps_round(round_: NpsRoundResult) -> str:
    head = f"`{escape(round_.campaign)}` round {round_.number}, opened {round_.opened_at:%Y-%m-%d}"
    result = round_.result
    if result is None:
        return f"{head}: {round_.responses} answers, fewer than {round_.min_group_size}: no score"
    return (
        f"{head}: *NPS {result.score:+.0f}* from {_count(result.responses, 'answer')} "
        f"({_count(result.promoters, 'promoter')}, {_count(result.passives, 'passive')}, "
        f"{_count(result.detractors, 'detractor')})"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _csat_cell(week: CsatWeek) -> str:
    if week.average is None:
        return f"`{escape(week.action)}` {week.ratings} ratings, fewer than {week.min_group_size}"
    return f"`{escape(week.action)}` *{week.average:.1f}* ({week.ratings} ratings)"


def _csat_weeks(weeks: list[CsatWeek]) -> list[str]:
    """One line per week with ratings, newest first; its actions most rated first."""
    by_week: dict[datetime, list[CsatWeek]] = {}
    for week in weeks:
        by_week.setdefault(week.week_start, []).append(week)
    lines = []
    for start, cells in sorted(by_week.items(), reverse=True):
        cells.sort(key=lambda c: (-c.ratings, c.action))
        shown = " · ".join(_csat_cell(c) for c in cells[:MAX_ACTIONS_PER_WEEK])
        more = len(cells) - MAX_ACTIONS_PER_WEEK
        lines.append(
            f"Week from {start:%m-%d}: {shown}"
            + (f" · and {more} more actions" if more > 0 else "")
        )
    return lines


def _feedback(feedback: Feedback) -> list[SectionBlock]:
    return [
        _section(
            "NPS per round (newest first)",
            [_nps_round(r) for r in sorted(feedback.nps, key=lambda r: r.opened_at, reverse=True)],
        ),
        _section(
            "Action CSAT per week, 1-5 (newest first)", _csat_weeks(feedback.csat), limit=MAX_WEEKS
        ),
    ]


def _outcomes(outcomes: Outcomes) -> list[Any]:
    return [
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
            "Time to provision, per driver", [_timing(t) for t in outcomes.provision_by_driver]
        ),
        _section(
            "Time to provision, per action", [_timing(t) for t in outcomes.provision_by_action]
        ),
        _section(
            "Approval wait (request to decision)",
            [_timing(outcomes.approval_wait)] if outcomes.approval_wait else [],
        ),
    ]


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
    blocks += [DividerBlock(), *_outcomes(outcomes)]
    if full:
        blocks.append(
            _section(
                "Failures by reason (top 5)",
                [f"{escape(reason)}: {count}" for reason, count in outcomes.failures],
            )
        )
        blocks += [DividerBlock(), *_feedback(figures.feedback)]
    note = (
        f"Teams with fewer than {figures.min_group_size} active people are not broken down; "
        "a round or an action's week with fewer answers than its survey's group size shows "
        "no figure. Charts are in your DM."
        if full
        else "Platform-wide figures; admins also see teams, failure reasons and the NPS and "
        "CSAT trend."
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return [block.to_dict() for block in blocks]
