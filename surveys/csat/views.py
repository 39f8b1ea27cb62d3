"""Block Kit for action CSAT (pure builders and parsers)."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from surveys.csat.ids import ActionId, BlockId
from surveys.csat.service import SCORE_LABELS as LABELS
from surveys.delivery import Content


class CsatMessageBuilder:
    """`CsatMessages` for the service: the rating prompt it posts."""

    def rating_request(self, request_id: int, *, question: str) -> Content:
        # Posted in the thread of what it asks about, so the question needs no name of the
        # action (and must not show its policy id).
        blocks = [
            SectionBlock(text=MarkdownTextObject(text=f"*{question}* (1 = poor, 5 = great)")),
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
        return Content(text=question, blocks=[block.to_dict() for block in blocks])


def build_rated(score: int) -> Content:
    """What the prompt becomes once rated."""
    text = f"Thanks for the feedback: you rated it {score}/5."
    return Content(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text)).to_dict()])


def parse_score(action_id: str) -> int:
    return int(action_id.removeprefix(ActionId.RATE_PREFIX))
