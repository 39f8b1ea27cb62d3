"""NPS Block Kit, built and parsed without a bot: what people see in the DMs, modal and results."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.feedback import RatingSummary
from surveys.nps import views
from surveys.nps.ids import ActionId, BlockId, CallbackId
from surveys.nps.service.types import (
    CampaignStatus,
    DeliveryProgress,
    NpsResults,
    RoundRef,
    RoundSummary,
    TeamResult,
)
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS

OPENED = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ROUND = RoundRef(
    id=7,
    number=3,
    campaign="pulse",
    question="How likely are you to recommend the platform?",
    follow_up="Why?",
    anonymity="anonymous",
    min_group_size=5,
    opened_at=OPENED,
    closes_at=OPENED + timedelta(days=7),
)


def _summary(answers: int, *, nps: float | None = 20.0, **delivery: Any) -> RoundSummary:
    return RoundSummary(
        id=7,
        number=3,
        scheduled_for=OPENED,
        closes_at=OPENED + timedelta(days=7),
        delivery=DeliveryProgress(**({"audience": 10, "reached": 10} | delivery)),
        responded=answers,
        answers=answers,
        nps=nps,
        distribution=[0] * 10 + [answers],
    )


def _results(answers: int, **extra: Any) -> NpsResults:
    return NpsResults(
        campaign="pulse",
        anonymity="anonymous",
        min_group_size=5,
        rounds=[_summary(answers)],
        **extra,
    )


def _texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _submitted(score: str | None, comment: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if score is not None:
        values[BlockId.SCORE] = {ActionId.SCORE: {"selected_option": {"value": score}}}
    if comment is not None:
        values[BlockId.COMMENT] = {ActionId.COMMENT: {"value": comment}}
    return {"private_metadata": json.dumps({"round": 7}), "state": {"values": values}}


def test_the_invitation_asks_the_question_and_says_what_is_stored() -> None:
    content = views.NpsMessageBuilder().invitation(ROUND, kind="invite")
    assert content.text == ROUND.question
    shown = _texts(content.blocks)
    assert "*How likely are you to recommend the platform?*" in shown
    assert "Anonymous." in shown and "groups of 5 or more" in shown
    buttons = content.blocks[1]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (ActionId.TAKE, "7"),
        (ActionId.SNOOZE, "7"),
    ]


@pytest.mark.parametrize(
    ("kind", "opening"),
    [
        ("snooze", "As you asked, here is the survey again. "),
        ("reminder-1", "A gentle reminder: "),
        ("reminder-2", "Last reminder: "),
        ("reminder-9", ""),
    ],
)
def test_reminders_and_snoozes_say_why_they_come_again(kind: str, opening: str) -> None:
    content = views.NpsMessageBuilder().invitation(ROUND, kind=kind)
    assert content.text == opening + ROUND.question


def test_the_thank_you_names_the_score_and_an_attributed_round_says_so() -> None:
    attributed = RoundRef(**(vars(ROUND) | {"anonymity": "attributed"}))
    content = views.NpsMessageBuilder().thank_you(attributed, score=0)
    assert content.text == "Thanks for answering! You gave 0/10."
    assert "Not anonymous." in _texts(content.blocks)


def test_an_admin_notice_is_its_text() -> None:
    content = views.NpsMessageBuilder().notice("Round 1 reached nobody.")
    assert content.text == "Round 1 reached nobody."
    assert content.blocks[0]["text"]["text"] == "Round 1 reached nobody."


def test_the_survey_modal_offers_0_to_10_and_carries_only_the_round() -> None:
    view = views.build_survey_modal(ROUND)
    assert view["callback_id"] == CallbackId.ANSWER
    assert json.loads(view["private_metadata"]) == {"round": 7}
    score = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in score] == [str(n) for n in range(11)]
    assert view["blocks"][1]["element"]["max_length"] == views.COMMENT_LIMIT


def test_a_notice_modal_only_closes() -> None:
    view = views.build_notice_modal("This survey is closed.")
    assert view["callback_id"] == CallbackId.NOTICE
    assert "submit" not in view and view["close"]["text"] == "Close"
    assert view["blocks"][0]["text"]["text"] == "This survey is closed."


@pytest.mark.parametrize(
    ("value", "score"),
    [("0", 0), ("10", 10), ("11", None), ("-1", None), ("abc", None), ("", None), (None, None)],
)
def test_parse_answer_keeps_only_scores_from_0_to_10(value: str | None, score: int | None) -> None:
    assert views.parse_answer(_submitted(value)).score == score


def test_parse_answer_cuts_the_comment_to_its_limit_and_drops_an_empty_one() -> None:
    limit = views.COMMENT_LIMIT
    assert views.parse_answer(_submitted("9", "x" * (limit + 1))).comment == "x" * limit
    assert views.parse_answer(_submitted("9", "x" * limit)).comment == "x" * limit
    assert views.parse_answer(_submitted("9", "")).comment is None
    assert views.parse_answer(_submitted("9")).round_id == 7


def test_results_hide_scores_below_the_group_size_and_show_them_at_it() -> None:
    hidden = _texts(views.build_results(_results(4), []))
    assert "hidden" in hidden and "Scores appear once the round has 5 answers" in hidden
    assert "*Distribution*" not in hidden
    shown = _texts(views.build_results(_results(5), []))
    assert "*NPS*\\n+20" in shown and "*Distribution*" in shown and "hidden" not in shown


def test_results_without_rounds_say_so() -> None:
    empty = NpsResults(campaign="pulse", anonymity="anonymous", min_group_size=5, rounds=[])
    assert "No rounds yet." in _texts(views.build_results(empty, []))


def test_results_show_comments_and_action_names_as_literal_text() -> None:
    results = _results(5, comments=[HOSTILE_TEXT], teams=[TeamResult("payments", 5, 40.0)])
    csat = [RatingSummary(HOSTILE_TEXT, 2, 3, 4.5)]
    shown = _texts(views.build_results(results, csat))
    assert not any(marker in shown for marker in RAW_MARKERS)
    assert "&lt;!channel&gt;" in shown
    assert "• payments: +40 (5 answers)" in shown
    assert "4.5/5 from 2 rating(s), 3 asked" in shown


def test_results_name_how_many_teams_were_too_small_to_show() -> None:
    shown = _texts(views.build_results(_results(5, hidden_teams=2), []))
    assert "2 team(s) hidden: fewer than 5 answers" in shown


def test_the_campaign_list_shows_state_schedule_and_progress() -> None:
    status = CampaignStatus(
        name="pulse",
        schedule="0 9 * * mon",
        timezone="Europe/Berlin",
        audience="all active people",
        anonymity="anonymous",
        paused=True,
        next_run=datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        last_round=_summary(3, audience=10, reached=4, waiting=6),
    )
    [block] = views.build_campaign_list([status])
    text = block["text"]["text"]
    assert text.startswith("*pulse* — :double_vertical_bar: paused\n`0 9 * * mon` (Europe/Berlin)")
    assert "next 2026-12-07 08:00 UTC" in text
    assert "last round 3 (2026-11-30): 3 of 4 reached have answered" in text
    assert "10 people; 4 sent, 6 being sent now" in text


def test_an_empty_campaign_list_says_none_are_configured() -> None:
    assert views.build_campaign_list([])[0]["text"]["text"] == "No NPS campaigns are configured."


@pytest.mark.parametrize(
    ("progress", "text"),
    [
        (DeliveryProgress(audience=None), "finding who to ask"),
        (DeliveryProgress(audience=1, reached=1), "1 person; 1 sent"),
        (DeliveryProgress(audience=0), "0 people; 0 sent"),
        (
            DeliveryProgress(audience=3, reached=1, waiting=1, failed=1),
            "3 people; 1 sent, 1 being sent now, 1 could not be reached",
        ),
        (
            DeliveryProgress(
                audience=2,
                reached=1,
                waiting=1,
                next_local=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
            ),
            "2 people; 1 sent, 1 waiting for their working hours "
            "(next at Tue 09:00 in their time zone)",
        ),
    ],
)
def test_delivery_progress_in_words(progress: DeliveryProgress, text: str) -> None:
    assert views.delivery_text(progress) == text
