"""Block Kit for action CSAT (pure builders)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot.mrkdwn import escape_truncated
from surveys.csat.ids import ActionId, BlockId

LABELS = {1: "1 😞", 2: "2", 3: "3", 4: "4", 5: "5 🤩"}


class CsatMessageBuilder:
    def rating_request(
        self, request_id: int, *, question: str, action: str
    ) -> tuple[str, list[dict[str, Any]]]:
        blocks = [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{question}* (`{escape_truncated(action, 100)}`, 1 = poor, 5 = great)"
                )
            ),
            ActionsBlock(
                block_id=BlockId.RATING,
                elements=[
                    ButtonElement(
                        text=LABELS[score],
                        action_id=f"{ActionId.RATE_PREFIX}{score}",
                        value=str(request_id),
                    )
                    for score in range(1, 6)
                ],
            ),
        ]
        return question, [block.to_dict() for block in blocks]

    def rated(self, *, score: int) -> tuple[str, list[dict[str, Any]]]:
        text = f"Thanks for the feedback: you rated it {score}/5."
        return text, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def parse_score(action_id: str) -> int:
    return int(action_id.removeprefix(ActionId.RATE_PREFIX))
