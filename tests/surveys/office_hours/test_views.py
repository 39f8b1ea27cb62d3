"""Office-hours Block Kit, built and parsed without a bot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.mrkdwn import SECTION_TEXT_LIMIT
from surveys.office_hours import views
from surveys.office_hours.ids import ActionId, BlockId, CallbackId
from surveys.office_hours.service.types import QUESTION_LIMIT, Overview, QuestionInfo, SessionInfo
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS

STARTS = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # 15:00 in Berlin
SESSION = SessionInfo(
    id=4,
    schedule="platform",
    sequence=0,
    starts_at=STARTS,
    ends_at=datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
    timezone=ZoneInfo("Europe/Berlin"),
    channel="C0GENERAL",
    hosts=["U0ALICE", "U0DAVE"],
    follow_up="How useful was today's office hours?",
)
WHEN = (
    f"<!date^{int(STARTS.timestamp())}^{{date_short_pretty}} at {{time}}"
    "|Thu 03 Dec 15:00 Europe/Berlin>"
)


def _question(text: str) -> QuestionInfo:
    return QuestionInfo("U0BOB", text, STARTS)


def _buttons(block: dict[str, Any]) -> list[tuple[str, str]]:
    return [(b["action_id"], b["value"]) for b in block["elements"]]


@pytest.mark.parametrize(
    ("minutes", "lead"),
    [(1440, "tomorrow"), (2880, "in 2 days"), (120, "in 2 hour(s)"), (90, "in 90 minutes")],
)
def test_a_reminder_says_when_in_the_readers_zone_and_who_hosts(minutes: int, lead: str) -> None:
    content = views.OfficeHoursMessageBuilder().reminder(
        SESSION, minutes_before=minutes, questions=2
    )
    assert content.text == f"Platform office hours {lead}: {WHEN}"
    section, actions = content.blocks
    assert "Hosts this time: <@U0ALICE>, <@U0DAVE>. 2 question(s) queued" in section["text"]["text"]
    assert _buttons(actions) == [(ActionId.ASK, "4"), (ActionId.ATTEND, "4")]


def test_the_host_brief_lists_the_queue() -> None:
    content = views.OfficeHoursMessageBuilder().host_brief(SESSION, [_question("Staging DB?")])
    assert content.text == f"You are hosting office hours {WHEN}."
    assert "1. Staging DB? — <@U0BOB>" in content.blocks[1]["text"]["text"]


def test_the_follow_up_asks_1_to_5_and_says_the_rating_is_named() -> None:
    content = views.OfficeHoursMessageBuilder().follow_up(SESSION)
    assert content.text == SESSION.follow_up
    assert content.blocks[1]["block_id"] == BlockId.RATING
    assert [value for _, value in _buttons(content.blocks[1])] == ["4"] * 5
    assert "stored with your name" in json.dumps(content.blocks)


def test_the_queue_shows_questions_as_literal_one_line_text() -> None:
    blocks = views.build_question_queue("Next", [_question(f"line one\n{HOSTILE_TEXT}")])
    queue = blocks[1]["text"]["text"]
    assert not any(marker in queue for marker in RAW_MARKERS)
    assert "1. line one &lt;!channel&gt;" in queue


def test_a_long_queue_is_cut_to_the_section_limit() -> None:
    questions = [_question("q" * 200) for _ in range(40)]
    queue = views.build_question_queue("Next", questions)[1]["text"]["text"]
    assert len(queue) == SECTION_TEXT_LIMIT and queue.endswith("…")


def test_an_empty_queue_says_so() -> None:
    assert "No questions queued yet." in views.build_question_queue("Next", [])[1]["text"]["text"]


def test_the_overview_shows_hosts_attendees_and_the_buttons() -> None:
    blocks = views.build_overview(Overview(SESSION, [], attendees=3))
    assert blocks[0]["text"]["text"] == f"*Next office hours: {WHEN}*"
    assert "3 said they will attend · posted in C0GENERAL" in blocks[2]["elements"][0]["text"]
    assert _buttons(blocks[3]) == [(ActionId.ASK, "4"), (ActionId.ATTEND, "4")]


def test_the_question_modal_says_who_sees_the_question() -> None:
    view = views.build_question_modal(SESSION)
    assert view["callback_id"] == CallbackId.QUESTION and view["private_metadata"] == "4"
    assert "shown to the hosts (<@U0ALICE>, <@U0DAVE>)" in view["blocks"][0]["text"]["text"]
    assert view["blocks"][1]["element"]["max_length"] == QUESTION_LIMIT


def test_parse_question_reads_the_session_and_the_text() -> None:
    values = {BlockId.QUESTION: {ActionId.QUESTION: {"value": "How?"}}}
    assert views.parse_question({"private_metadata": "4", "state": {"values": values}}) == (
        4,
        "How?",
    )
    assert views.parse_question({"private_metadata": "4", "state": {"values": {}}}) == (4, "")


@pytest.mark.parametrize("rating", [1, 5])
def test_parse_rating_reads_the_button(rating: int) -> None:
    assert views.parse_rating(f"{ActionId.RATE_PREFIX}{rating}") == rating
