"""Block Kit for NPS (pure builders and parsers)."""

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
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.feedback import RatingSummary
from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape_truncated, truncate
from surveys.delivery import Content
from surveys.nps.ids import ActionId, BlockId, CallbackId
from surveys.nps.service.types import (
    CampaignStatus,
    DeliveryProgress,
    NpsResults,
    RoundRef,
    RoundSummary,
)

COMMENT_LIMIT = 2000
_KIND_INTRO = {
    "invite": "",
    "snooze": "As you asked, here is the survey again. ",
    "reminder-1": "A gentle reminder: ",
    "reminder-2": "Last reminder: ",
}


def anonymity_note(anonymity: str, min_group_size: int) -> str:
    """What is stored, said plainly; shown in the invitation and in the modal."""
    if anonymity == "anonymous":
        return (
            "*Anonymous.* Your answer is stored without your name or user id: only the score, "
            "your comment as written, your team and the date. Team results are shown only "
            f"for groups of {min_group_size} or more answers. A separate list of who has "
            "answered is kept so that reminders skip you; it is not linked to your answer."
        )
    return (
        "*Not anonymous.* Your answer is stored with your Slack user id; the platform team "
        f"sees who said what. Team results are shown for groups of {min_group_size} or more."
    )


def _blocks(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


class NpsMessageBuilder:
    """`NpsMessages` for the services: the DMs they post and edit."""

    def invitation(self, round_: RoundRef, *, kind: str) -> Content:
        intro = _KIND_INTRO.get(kind, "")
        text = f"{intro}{round_.question}"
        blocks = [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{intro}*{round_.question}*\nIt takes two clicks: a score from 0 to "
                    f"10 and, if you like, a comment. Open until "
                    f"<!date^{int(round_.closes_at.timestamp())}^{{date_short}}|"
                    f"{round_.closes_at:%Y-%m-%d}>."
                )
            ),
            ActionsBlock(
                block_id=BlockId.INVITE_ACTIONS,
                elements=[
                    ButtonElement(
                        text="Take the survey",
                        action_id=ActionId.TAKE,
                        value=str(round_.id),
                        style="primary",
                    ),
                    ButtonElement(
                        text="Remind me later", action_id=ActionId.SNOOZE, value=str(round_.id)
                    ),
                ],
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=anonymity_note(round_.anonymity, round_.min_group_size))
                ]
            ),
        ]
        return Content(text=text, blocks=_blocks(blocks))

    def thank_you(self, round_: RoundRef, *, score: int) -> Content:
        text = f"Thanks for answering! You gave {score}/10."
        blocks = [
            SectionBlock(text=MarkdownTextObject(text=f":white_check_mark: *{text}*")),
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=anonymity_note(round_.anonymity, round_.min_group_size))
                ]
            ),
        ]
        return Content(text=text, blocks=_blocks(blocks))

    def notice(self, text: str) -> Content:
        return Content(
            text=text, blocks=_blocks([SectionBlock(text=MarkdownTextObject(text=text))])
        )


def build_survey_modal(round_: RoundRef) -> dict[str, Any]:
    # Only the round: who answers comes from the payload's user and which DM to thank from
    # the delivery ledger, never from metadata a client could edit.
    view = View(
        type="modal",
        callback_id=CallbackId.ANSWER,
        private_metadata=json.dumps({"round": round_.id}),
        title=PlainTextObject(text="Platform survey"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=BlockId.SCORE,
                label=round_.question,
                hint="0 = not at all likely, 10 = extremely likely",
                element=StaticSelectElement(
                    action_id=ActionId.SCORE,
                    placeholder="Pick a score",
                    options=[Option(text=str(n), value=str(n)) for n in range(11)],
                ),
            ),
            InputBlock(
                block_id=BlockId.COMMENT,
                label=round_.follow_up,
                optional=True,
                element=PlainTextInputElement(
                    action_id=ActionId.COMMENT, multiline=True, max_length=COMMENT_LIMIT
                ),
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=anonymity_note(round_.anonymity, round_.min_group_size))
                ]
            ),
        ],
    )
    return view.to_dict()


def build_notice_modal(text: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=CallbackId.NOTICE,
        title=PlainTextObject(text="Platform survey"),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )
    return view.to_dict()


@dataclass(frozen=True)
class ParsedAnswer:
    round_id: int
    score: int | None
    comment: str | None


def parse_answer(view: dict[str, Any]) -> ParsedAnswer:
    metadata = json.loads(view.get("private_metadata") or "{}")
    values = view.get("state", {}).get("values", {})
    selected = values.get(BlockId.SCORE, {}).get(ActionId.SCORE, {}).get("selected_option")
    score: int | None = None
    if selected and str(selected.get("value", "")).isdigit():
        candidate = int(selected["value"])
        score = candidate if 0 <= candidate <= 10 else None
    comment = values.get(BlockId.COMMENT, {}).get(ActionId.COMMENT, {}).get("value")
    return ParsedAnswer(
        round_id=int(metadata["round"]),
        score=score,
        comment=str(comment)[:COMMENT_LIMIT] if comment else None,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _nps(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0f}"


def build_results(results: NpsResults, csat: list[RatingSummary]) -> list[dict[str, Any]]:
    latest = results.latest
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*NPS: {results.campaign}* ({results.anonymity}, "
                f"{len(results.rounds)} round(s))"
            )
        )
    ]
    if latest is None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No rounds yet.")))
    else:
        blocks += _latest_round(results, latest)
        if results.suppressed:
            blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text=f"Scores appear once the round has {results.min_group_size} "
                            "answers, so no one can be singled out."
                        )
                    ]
                )
            )
        elif latest.answers:
            bars = "\n".join(
                f"`{score:>2}` {'█' * count} {count}"
                for score, count in enumerate(latest.distribution)
            )
            blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Distribution*\n{bars}")))
        trend = " → ".join(
            f"{r.scheduled_for:%m-%d}: {_nps(r.nps)}"
            for r in results.rounds[-6:]
            if r.answers >= results.min_group_size
        )
        if trend:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Trend*\n{trend}")))
        if results.teams or results.hidden_teams:
            lines = [f"• {t.team}: {_nps(t.nps)} ({t.answers} answers)" for t in results.teams]
            if results.hidden_teams:
                lines.append(
                    f"• {results.hidden_teams} team(s) hidden: fewer than "
                    f"{results.min_group_size} answers"
                )
            blocks.append(_section("*By team*\n" + "\n".join(lines)))
        if results.comments:
            quoted = "\n".join(f"> {_one_line(c)}" for c in results.comments)
            blocks.append(
                SectionBlock(text=MarkdownTextObject(text=f"*Latest comments*\n{quoted}"))
            )
    if csat:
        lines = [
            f"• `{escape_truncated(s.action, 100)}`: {s.average:.1f}/5 from {s.ratings} "
            f"rating(s), {s.asked} asked"
            for s in csat
        ]
        blocks.append(_section("*Action CSAT (last 90 days)*\n" + "\n".join(lines)))
    return _blocks(blocks)


def _section(mrkdwn: str) -> SectionBlock:
    """A section of lines that grow with the data (teams, actions), cut to Slack's limit."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(mrkdwn, SECTION_TEXT_LIMIT)))


def _latest_round(results: NpsResults, latest: RoundSummary) -> list[Block]:
    reached = (
        f"{_pct(latest.response_rate)} ({latest.responded} of {latest.invited} reached)"
        if latest.invited
        else "- (nobody reached yet)"
    )
    return [
        SectionBlock(
            fields=[
                MarkdownTextObject(
                    text="*NPS*\n" + ("hidden" if results.suppressed else _nps(latest.nps))
                ),
                MarkdownTextObject(text=f"*Response rate*\n{reached}"),
                MarkdownTextObject(
                    text=f"*Round {latest.number}*\nopened {latest.scheduled_for:%Y-%m-%d}"
                ),
                MarkdownTextObject(text=f"*Closes*\n{latest.closes_at:%Y-%m-%d %H:%M} UTC"),
            ]
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"Invitations: {delivery_text(latest.delivery)}")]
        ),
    ]


def delivery_text(progress: DeliveryProgress) -> str:
    """E.g. "120 people; 40 sent, 80 waiting for their working hours (next at Tue 09:00 …)"."""
    if progress.audience is None:
        return "finding who to ask"
    parts = [f"{progress.reached} sent"]
    if progress.waiting and progress.next_local is None:
        parts.append(f"{progress.waiting} being sent now")
    elif progress.waiting and progress.next_local is not None:
        parts.append(
            f"{progress.waiting} waiting for their working hours (next at "
            f"{progress.next_local:%a %H:%M} in their time zone)"
        )
    if progress.failed:
        parts.append(f"{progress.failed} could not be reached")
    people = "person" if progress.audience == 1 else "people"
    return f"{progress.audience} {people}; " + ", ".join(parts)


def _one_line(text: str, limit: int = 280) -> str:
    """A comment as one line of literal mrkdwn: typed text never becomes a mention or link."""
    return escape_truncated(" ".join(text.split()), limit)


def build_campaign_list(statuses: list[CampaignStatus]) -> list[dict[str, Any]]:
    if not statuses:
        return _blocks(
            [SectionBlock(text=MarkdownTextObject(text="No NPS campaigns are configured."))]
        )
    blocks: list[Block] = []
    for s in statuses:
        last = s.last_round
        last_text = (
            "no rounds yet"
            if last is None
            else f"last round {last.number} ({last.scheduled_for:%Y-%m-%d}): {last.responded} of "
            f"{last.invited} reached have answered; invitations: {delivery_text(last.delivery)}"
        )
        state = ":double_vertical_bar: paused" if s.paused else ":arrow_forward: active"
        next_run = f"{s.next_run:%Y-%m-%d %H:%M} UTC" if s.next_run else "never"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{s.name}* — {state}\n`{s.schedule}` ({s.timezone}), next {next_run}; "
                    f"{s.audience}; {s.anonymity}; {last_text}"
                )
            )
        )
    return _blocks(blocks)
