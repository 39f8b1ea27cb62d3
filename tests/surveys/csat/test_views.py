"""CSAT Block Kit, built and parsed without a bot."""

from __future__ import annotations

import json

import pytest

from surveys.csat import views
from surveys.csat.ids import RATE_PATTERN, ActionId, BlockId
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


def test_the_prompt_asks_about_the_action_with_five_buttons() -> None:
    content = views.CsatMessageBuilder().rating_request(
        12, question="How did that go?", action="db.create"
    )
    assert content.text == "How did that go?"
    section, actions = content.blocks
    assert section["text"]["text"] == "*How did that go?* (`db.create`, 1 = poor, 5 = great)"
    assert actions["block_id"] == BlockId.RATING
    buttons = actions["elements"]
    assert [b["action_id"] for b in buttons] == [f"{ActionId.RATE_PREFIX}{n}" for n in range(1, 6)]
    assert all(RATE_PATTERN.match(b["action_id"]) for b in buttons)
    assert {b["value"] for b in buttons} == {"12"}


def test_the_prompt_shows_an_action_name_as_literal_text_cut_to_100() -> None:
    content = views.CsatMessageBuilder().rating_request(1, question="Q?", action=HOSTILE_TEXT * 5)
    shown = json.dumps(content.blocks)
    assert not any(marker in shown for marker in RAW_MARKERS)
    action = content.blocks[0]["text"]["text"].split("`")[1]
    assert len(action) == 100 and action.endswith("…")


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
