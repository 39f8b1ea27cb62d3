"""Block Kit for the maturity self-assessment (pure builders and parsers).

Dimension names, level labels and descriptions and team names come from the platform
config; they are escaped like any other text before they enter mrkdwn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.mrkdwn import CONTEXT_TEXT_LIMIT, SECTION_TEXT_LIMIT, escape, truncate
from surveys.delivery import Content
from surveys.maturity.config import Dimension
from surveys.maturity.ids import ActionId, BlockId, CallbackId
from surveys.maturity.service.types import Invitee, PlatformOverview, RoundRef, TeamResult

TITLE = "Platform maturity"
_KIND_INTRO = {"invite": "", "reminder-1": "A gentle reminder: ", "reminder-2": "Last reminder: "}


def attribution_note(attribute_to: str, min_group_size: int) -> str:
    """What is stored, said plainly; shown in the invitation and in the modal."""
    if attribute_to == "team":
        return (
            "*Attributed to the team.* Your answer is stored under the team, without your name "
            "or user id. The team's levels show once "
            f"{min_group_size} of its leads have answered. A separate list of who has answered "
            "is kept so that reminders skip you; it is not linked to your answer."
        )
    return (
        "*Attributed to you.* Your answer is stored with your Slack user id. The team's levels "
        f"show once {min_group_size} of its leads have answered."
    )


def _blocks(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _note(round_: RoundRef) -> ContextBlock:
    text = attribution_note(round_.attribute_to, round_.min_group_size)
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


class MaturityMessageBuilder:
    """`MaturityMessages` for the services: the DMs they post and edit."""

    def invitation(self, round_: RoundRef, invitee: Invitee, *, kind: str) -> Content:
        intro = _KIND_INTRO.get(kind, "")
        team = escape(invitee.team_name)
        count = len(round_.dimensions)
        text = (
            f"{intro}How mature is {invitee.team_name}'s platform practice? (round {round_.number})"
        )
        closes = int(round_.closes_at.timestamp())
        blocks = [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{intro}*How mature is {team}'s platform practice?*\nAs a lead of "
                    f"{team}, pick the level (1 to 5) that fits the team on each of {count} "
                    f"dimensions; each level is described. Open until "
                    f"<!date^{closes}^{{date_short}}|{round_.closes_at:%Y-%m-%d}>."
                )
            ),
            ActionsBlock(
                block_id=BlockId.INVITE_ACTIONS,
                elements=[
                    ButtonElement(
                        text="Assess the team",
                        action_id=ActionId.TAKE,
                        value=json.dumps({"round": round_.id, "team": invitee.team}),
                        style="primary",
                    )
                ],
            ),
            _note(round_),
        ]
        return Content(text=text, blocks=_blocks(blocks))

    def thank_you(self, round_: RoundRef, invitee: Invitee) -> Content:
        text = f"Thanks! Your assessment of {invitee.team_name} is in."
        blocks = [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":white_check_mark: *Thanks! Your assessment of "
                    f"{escape(invitee.team_name)} is in.* `/platform maturity "
                    f"{invitee.team}` shows the team's levels once enough leads have answered."
                )
            ),
            _note(round_),
        ]
        return Content(text=text, blocks=_blocks(blocks))

    def notice(self, text: str) -> Content:
        return Content(
            text=text, blocks=_blocks([SectionBlock(text=MarkdownTextObject(text=text))])
        )


def option_text(level: int, label: str) -> str:
    """What a level's option shows: "3 · label" (the config keeps it within 75 characters)."""
    return f"{level} · {label}"


def _level_guide(dimension: Dimension) -> str:
    lines = [
        f"*{n} · {escape(level.label)}*: {escape(level.description)}"
        for n, level in dimension.levels.items()
    ]
    return truncate("\n".join(lines), CONTEXT_TEXT_LIMIT)


def build_answer_modal(round_: RoundRef, invitee: Invitee) -> dict[str, Any]:
    # Only the round and team: who answers comes from the payload's user, and whether they
    # may answer for the team from the delivery ledger.
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Assess *{escape(invitee.team_name)}* as it works today, not as planned. "
                "Each level's description is under its question."
            )
        )
    ]
    for dimension in round_.dimensions:
        blocks += [
            InputBlock(
                block_id=f"{BlockId.DIMENSION_PREFIX}{dimension.key}",
                label=f"{dimension.name}: {dimension.question}",
                element=StaticSelectElement(
                    action_id=ActionId.LEVEL,
                    placeholder="Pick a level",
                    options=[
                        Option(text=option_text(n, level.label), value=str(n))
                        for n, level in dimension.levels.items()
                    ],
                ),
            ),
            ContextBlock(elements=[MarkdownTextObject(text=_level_guide(dimension))]),
        ]
    blocks.append(_note(round_))
    view = View(
        type="modal",
        callback_id=CallbackId.ANSWER,
        private_metadata=json.dumps({"round": round_.id, "team": invitee.team}),
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    )
    return view.to_dict()


def build_notice_modal(text: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=CallbackId.NOTICE,
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )
    return view.to_dict()


@dataclass(frozen=True)
class RoundAndTeam:
    round_id: int
    team: str


def parse_round_and_team(value: str) -> RoundAndTeam | None:
    """The round and team a button value or private_metadata names; None when unreadable."""
    try:
        found = json.loads(value or "{}")
        return RoundAndTeam(int(found["round"]), str(found["team"])[:64])
    except (ValueError, TypeError, KeyError):
        return None


def parse_levels(view: dict[str, Any]) -> dict[str, int]:
    """The level picked per dimension key (dimensions left empty or unreadable are absent)."""
    levels: dict[str, int] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        if not str(block_id).startswith(BlockId.DIMENSION_PREFIX):
            continue
        selected = (actions.get(ActionId.LEVEL) or {}).get("selected_option") or {}
        value = str(selected.get("value", ""))
        if value in {"1", "2", "3", "4", "5"}:
            levels[str(block_id).removeprefix(BlockId.DIMENSION_PREFIX)] = int(value)
    return levels


def missing_levels(round_: RoundRef, levels: dict[str, int]) -> dict[str, str]:
    """Field errors for each dimension without a level (empty when all have one)."""
    return {
        f"{BlockId.DIMENSION_PREFIX}{d.key}": f"Pick the level that fits for {d.name}."
        for d in round_.dimensions
        if d.key not in levels
    }


def _status(number: int, open_: bool) -> str:
    return f"round {number}, still open" if open_ else f"round {number}"


def trend_text(result: TeamResult) -> str | None:
    """ "Adoption 2 → 3" per dimension over the trend's rounds; None with under two rounds."""
    if len(result.rounds_in_trend) < 2:
        return None
    lines = [
        f"{escape(line.name)} "
        + " → ".join("-" if level is None else str(level) for level in line.levels)
        for line in result.trend
    ]
    rounds = ", ".join(str(n) for n in result.rounds_in_trend)
    return f"*Trend (rounds {rounds})*\n" + "\n".join(lines)


def build_team_result(result: TeamResult) -> list[dict[str, Any]]:
    status = _status(result.round_number, result.round_open)
    blocks: list[Block] = [
        _section(
            f"*Platform maturity: {escape(result.team_name)}* ({status}; "
            f"{result.respondents} of {result.asked} lead(s) answered)"
        )
    ]
    if not result.shown:
        blocks.append(
            _section(
                f"Not enough answers yet: the team's levels show once {result.min_group_size} "
                "of its leads have answered, so no one lead's view is singled out."
            )
        )
    else:
        blocks.append(_section(f"*Overall: level {result.overall:.1f} of 5*"))
        for found in result.dimensions:
            ahead = (
                f"_What level {found.level + 1} looks like:_ {escape(found.next_level.description)}"
                if found.next_level is not None
                else "_This is the top level._"
            )
            blocks.append(
                _section(
                    f"*{escape(found.name)}: level {found.level}* · "
                    f"{escape(found.current.label)}\n{ahead}"
                )
            )
    trend = trend_text(result)
    if trend is not None:
        blocks.append(_section(trend))
    return _blocks(blocks)


def build_overview(overview: PlatformOverview) -> list[dict[str, Any]]:
    status = _status(overview.round_number, overview.round_open)
    shown = len(overview.teams_shown)
    blocks: list[Block] = [
        _section(
            f"*Platform maturity* ({status}): {shown} of {overview.teams_asked} team(s) with "
            "enough answers"
        )
    ]
    if overview.teams_shown:
        lines = [f"• {escape(name)}: {overall:.1f}" for name, overall in overview.teams_shown]
        blocks.append(_section("*Overall level by team*\n" + "\n".join(lines)))
        spread = [
            f"• {escape(s.name)}: "
            + " · ".join(f"L{n + 1} {count}" for n, count in enumerate(s.teams_at))
            for s in overview.spread
        ]
        blocks.append(_section("*Teams at each level*\n" + "\n".join(spread)))
    if overview.teams_hidden:
        blocks.append(
            _section(
                f"{overview.teams_hidden} team(s) not counted: fewer than "
                f"{overview.min_group_size} of their leads answered."
            )
        )
    return _blocks(blocks)


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(mrkdwn, SECTION_TEXT_LIMIT)))
