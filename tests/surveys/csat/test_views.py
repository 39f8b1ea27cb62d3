"""CSAT Block Kit, built and parsed without a bot."""

from __future__ import annotations

import pytest

from surveys.csat import views
from surveys.csat.ids import RATE_PATTERN, ActionId, BlockId


def test_the_prompt_asks_the_question_with_five_buttons_and_no_action_id() -> None:
    content = views.CsatMessageBuilder().rating_request(12, question="How did that go?")
    assert content.text == "How did that go?"
    section, actions = content.blocks
    # Posted in the action's own thread: the policy id (`db.create`) is never shown.
    assert section["text"]["text"] == "*How did that go?* (1 = poor, 5 = great)"
    assert actions["block_id"] == BlockId.RATING
    buttons = actions["elements"]
    assert [b["action_id"] for b in buttons] == [f"{ActionId.RATE_PREFIX}{n}" for n in range(1, 6)]
    assert all(RATE_PATTERN.match(b["action_id"]) for b in buttons)
    assert {b["value"] for b in buttons} == {"12"}


def test_a_rated_prompt_thanks_with_the_score() -> None:
    rated = views.build_rated(5)
    assert rated.text == "Thanks for the feedback: you rated it 5/5."
    assert rated.blocks[0]["text"]["text"] == rated.text


@pytest.mark.parametrize("score", [1, 5])
def test_parse_score_reads_the_button(score: int) -> None:
    assert views.parse_score(f"{ActionId.RATE_PREFIX}{score}") == score


def test_parse_score_refuses_what_is_not_a_rating_button() -> None:
    with pytest.raises(ValueError):
        views.parse_score(f"{ActionId.RATE_PREFIX}x")
