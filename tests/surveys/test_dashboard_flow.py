"""Surveys on the App Home through the emulator (Slack tier): the NPS invitation's Take
button opens the same modal as in the DM, the CSAT buttons rate the prompt in its thread,
and an answered survey leaves the tab."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from surveys.csat.ids import ActionId as CsatAction
from surveys.nps.ids import ActionId, BlockId
from tests.commands.home.driving import DbBot, click_home, home_text, open_home
from tests.surveys.conftest import SurveyBot, survey_bot

BOB, CAROL = "U0BOB", "U0CAROL"
CONFIG = """
platform: {name: Test Platform, timezone: Europe/Berlin}
home: {refresh_seconds: 0.1}
surveys:
  delivery:
    working_hours: {start: "00:00", end: "23:59", days: [mon, tue, wed, thu, fri, sat, sun]}
  campaigns:
    - name: pulse
      schedule: "0 9 * * mon"
      timezone: Europe/Berlin
      audience: {kind: users, users: [U0BOB, U0CAROL]}
      question: "How likely are you to recommend the platform <b>?"
      open_days: 7
      anonymity: anonymous
"""
MONDAY = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)  # 08:59 in Berlin


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(tmp_path, CONFIG, workspace=None, start=MONDAY, schema=migrated_schema) as b:
        yield b


def _home(bot: SurveyBot) -> DbBot:
    return SimpleNamespace(bot=bot)  # type: ignore[return-value]


def _refreshed_without(bot: SurveyBot, user: str, text: str) -> bool:
    """The home feature's refresh publishes `user`'s tab, and it no longer shows `text`."""
    refresh = bot.feature("home").refresh
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the refresh is paced: due a tenth of a second on
        refresh.run_due()  # not inside wait_for: publishing needs the emulator's state
        if text not in home_text(_home(bot), user):
            return True
        time.sleep(0.05)
    return False


def test_an_open_nps_round_is_on_the_home_and_its_button_opens_the_survey(
    bot: SurveyBot,
) -> None:
    bot.tick()  # the campaign is seen before its first run, which then comes at 09:00
    bot.clock.advance(minutes=2)
    bot.tick()
    bot.run_jobs()
    home = open_home(_home(bot), BOB)
    text = json.dumps(home.spec["blocks"])
    assert "Surveys waiting for your answer" in text
    assert "recommend the platform &lt;b&gt;?" in text  # the question, escaped
    round_id = str(bot.surveys.nps.campaigns.campaigns()[0].last_round.id)  # type: ignore[union-attr]

    click_home(_home(bot), BOB, ActionId.TAKE, round_id)
    assert bot.emulator.wait_for(lambda: bool(bot.emulator.state.modal_stack(BOB)))
    modal = bot.emulator.state.modal_stack(BOB)[-1]
    assert "recommend the platform" in json.dumps(modal.spec)
    bot.signer.view_submission(
        BOB,
        modal.id,
        {BlockId.SCORE: {ActionId.SCORE: "9"}, BlockId.COMMENT: {ActionId.COMMENT: ""}},
    )
    assert _refreshed_without(bot, BOB, "Surveys waiting for your answer")
    assert "Thanks for answering" in bot.dm_messages(BOB)[0].text  # the DM follows too
    assert "Surveys waiting" in json.dumps(open_home(_home(bot), CAROL).spec)  # hers still waits


def test_a_csat_prompt_is_rated_from_the_home_and_the_thread_follows(bot: SurveyBot) -> None:
    csat = bot.surveys.csat
    assert csat.request(user_id=BOB, action="new_db.create", channel="C0GENERAL")
    [prompt] = [
        m for m in bot.emulator.state.messages("C0GENERAL") if "csat_rate_" in str(m.blocks)
    ]
    request_id = json.dumps(prompt.blocks).split('"value": "')[1].split('"')[0]
    text = json.dumps(open_home(_home(bot), BOB).spec["blocks"])
    assert "How did that go?" in text and "new_db" not in text
    assert not [b for b in ("csat_rate_",) if b in home_text(_home(bot), CAROL)]

    click_home(_home(bot), BOB, f"{CsatAction.RATE_PREFIX}4", request_id)
    assert bot.emulator.wait_for(
        lambda: (
            "you rated it 4/5"
            in next(m.text for m in bot.emulator.state.messages("C0GENERAL") if m.ts == prompt.ts)
        )
    )
    assert _refreshed_without(bot, BOB, "How did that go?")
