"""Block Kit for office hours (pure builders and parsers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape_truncated, truncate
from surveys.delivery import Content
from surveys.office_hours.ids import ActionId, BlockId, CallbackId
from surveys.office_hours.service.types import QUESTION_LIMIT, Overview, QuestionInfo, SessionInfo


def _blocks(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _when(session: SessionInfo) -> str:
    local = session.starts_at.astimezone(session.timezone)
    # Slack renders <!date…> in each reader's own time zone; the fallback names the zone.
    return (
        f"<!date^{int(session.starts_at.timestamp())}^{{date_short_pretty}} at {{time}}|"
        f"{local:%a %d %b %H:%M} {session.timezone}>"
    )


def _hosts(session: SessionInfo) -> str:
    return ", ".join(f"<@{h}>" for h in session.hosts) or "to be announced"


def _lead(minutes_before: int) -> str:
    if minutes_before >= 1440 and minutes_before % 1440 == 0:
        days = minutes_before // 1440
        return "tomorrow" if days == 1 else f"in {days} days"
    if minutes_before >= 60 and minutes_before % 60 == 0:
        return f"in {minutes_before // 60} hour(s)"
    return f"in {minutes_before} minutes"


class OfficeHoursMessageBuilder:
    """`OfficeHoursMessages` for the services: the reminder, the host brief, the follow-up."""

    def reminder(self, session: SessionInfo, *, minutes_before: int, questions: int) -> Content:
        text = f"Platform office hours {_lead(minutes_before)}: {_when(session)}"
        blocks = [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":calendar: *{text}*\nHosts this time: {_hosts(session)}. "
                    f"{questions} question(s) queued so far."
                )
            ),
            ActionsBlock(
                block_id=BlockId.REMINDER_ACTIONS,
                elements=[
                    ButtonElement(
                        text="Add a question", action_id=ActionId.ASK, value=str(session.id)
                    ),
                    ButtonElement(
                        text="I'll attend",
                        action_id=ActionId.ATTEND,
                        value=str(session.id),
                        style="primary",
                    ),
                ],
            ),
        ]
        return Content(text=text, blocks=_blocks(blocks))

    def host_brief(self, session: SessionInfo, questions: list[QuestionInfo]) -> Content:
        text = f"You are hosting office hours {_when(session)}."
        return Content(text=text, blocks=build_question_queue(text, questions))

    def follow_up(self, session: SessionInfo) -> Content:
        blocks = [
            SectionBlock(
                text=MarkdownTextObject(text=f"*{session.follow_up}* (1 = not, 5 = very)")
            ),
            ActionsBlock(
                block_id=BlockId.RATING,
                elements=[
                    ButtonElement(
                        text=str(score),
                        action_id=f"{ActionId.RATE_PREFIX}{score}",
                        value=str(session.id),
                    )
                    for score in range(1, 6)
                ],
            ),
            # Said plainly because NPS answers can be anonymous and these are not.
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Your rating is stored with your name, for the hosts to follow up."
                    )
                ]
            ),
        ]
        return Content(text=session.follow_up, blocks=_blocks(blocks))


def build_question_queue(title: str, questions: list[QuestionInfo]) -> list[dict[str, Any]]:
    if questions:
        listing = "\n".join(
            f"{n}. {_one_line(q.text)} — <@{q.user_id}>" for n, q in enumerate(questions, 1)
        )
    else:
        listing = "No questions queued yet."
    return _blocks(
        [
            SectionBlock(text=MarkdownTextObject(text=f"*{title}*")),
            SectionBlock(
                text=MarkdownTextObject(
                    text=truncate(f"*Question queue*\n{listing}", SECTION_TEXT_LIMIT)
                )
            ),
        ]
    )


def build_overview(overview: Overview) -> list[dict[str, Any]]:
    session = overview.session
    blocks = build_question_queue(f"Next office hours: {_when(session)}", overview.questions)
    extra = ContextBlock(
        elements=[
            MarkdownTextObject(
                text=f"Hosts: {_hosts(session)} · {overview.attendees} said they will attend · "
                f"posted in {session.channel}"
            )
        ]
    )
    actions = ActionsBlock(
        block_id=BlockId.REMINDER_ACTIONS,
        elements=[
            ButtonElement(text="Add a question", action_id=ActionId.ASK, value=str(session.id)),
            ButtonElement(text="I'll attend", action_id=ActionId.ATTEND, value=str(session.id)),
        ],
    )
    return [*blocks, extra.to_dict(), actions.to_dict()]


def build_question_modal(session: SessionInfo) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=CallbackId.QUESTION,
        private_metadata=str(session.id),
        title=PlainTextObject(text="Office hours"),
        submit=PlainTextObject(text="Queue it"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Your question is shown to the hosts ({_hosts(session)}) and in "
                    "`/platform office-hours`, with your name."
                )
            ),
            InputBlock(
                block_id=BlockId.QUESTION,
                label="Your question",
                element=PlainTextInputElement(
                    action_id=ActionId.QUESTION, multiline=True, max_length=QUESTION_LIMIT
                ),
            ),
        ],
    )
    return view.to_dict()


def parse_question(view: dict[str, Any]) -> tuple[int, str]:
    values = view.get("state", {}).get("values", {})
    text = values.get(BlockId.QUESTION, {}).get(ActionId.QUESTION, {}).get("value") or ""
    return int(view["private_metadata"]), str(text)


def parse_rating(action_id: str) -> int:
    return int(action_id.removeprefix(ActionId.RATE_PREFIX))


def _one_line(text: str, limit: int = 200) -> str:
    """A question as one line of literal mrkdwn: typed text never becomes a mention or link."""
    return escape_truncated(" ".join(text.split()), limit)
