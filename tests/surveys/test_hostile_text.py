"""Text people type into the survey features reaches Slack as text, never as markup.

Each test drives a whole flow through the emulator with `HOSTILE_TEXT` typed where a person
can type, then checks that nothing the workspace displayed carries it as live mrkdwn.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from surveys.nps.ids import ActionId, BlockId
from surveys.office_hours.ids import ActionId as OhAction
from surveys.office_hours.ids import BlockId as OhBlock
from tests.hostile import HOSTILE_TEXT, raw_markup_shown
from tests.surveys.conftest import SurveyBot, survey_bot
from tests.surveys.test_bad_input_and_office_hours import CONFIG as BASE_CONFIG

# Comments appear in the results from the first answer on.
CONFIG = BASE_CONFIG.replace(
    "anonymity: attributed", "anonymity: attributed\n      min_group_size: 1"
)
# Wednesday 2 December 2026, 15:00:30 in Berlin: a day before the office hours.
START = datetime(2026, 12, 2, 14, 0, 30, tzinfo=UTC)
QUOTED = shlex.quote(HOSTILE_TEXT)


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(
        tmp_path, CONFIG, workspace=None, start=START, schema=migrated_schema
    ) as running:
        yield running


def test_a_hostile_nps_comment_is_shown_as_text_in_the_results(bot: SurveyBot) -> None:
    bot.signer.slash_command("U0ALICE", "nps run pulse")
    bot.run_jobs()
    invite = next(m for m in bot.dm_messages("U0BOB") if "Take the survey" in str(m.blocks))
    bot.signer.block_action("U0BOB", action_id=ActionId.TAKE, message=(invite.channel, invite.ts))
    assert bot.emulator.wait_for(lambda: bool(bot.emulator.state.modal_stack("U0BOB")))
    view = bot.emulator.state.modal_stack("U0BOB")[-1]
    bot.signer.view_submission(
        "U0BOB",
        view.id,
        {BlockId.SCORE: {ActionId.SCORE: "3"}, BlockId.COMMENT: {ActionId.COMMENT: HOSTILE_TEXT}},
    )
    assert bot.emulator.wait_for(lambda: "Thanks" in bot.dm_messages("U0BOB")[0].text)

    shown = str(bot.signer.slash_command("U0ALICE", "nps pulse").json)
    assert "&lt;!channel&gt; &lt;https://evil.example/sso|Approve in the portal&gt; &amp; more" in (
        shown
    )
    assert raw_markup_shown(bot.emulator) == []


def test_hostile_campaign_names_typed_in_commands_are_shown_as_text(bot: SurveyBot) -> None:
    for verb in ("", "run ", "pause ", "export "):
        answer = bot.signer.slash_command("U0ALICE", f"nps {verb}{QUOTED}").json
        assert "no NPS campaign called" in answer["text"]
    answer = bot.signer.slash_command("U0BOB", f"office-hours {QUOTED}").json
    assert "no office hours called" in answer["text"]
    assert raw_markup_shown(bot.emulator) == []


def test_a_hostile_office_hours_question_is_shown_as_text(bot: SurveyBot) -> None:
    bot.tick()  # the session exists and the day-before reminder is posted
    reminder = bot.emulator.messages("C0GENERAL")[-1]
    bot.signer.block_action(
        "U0BOB", action_id=OhAction.ASK, message=(reminder.channel, reminder.ts)
    )
    assert bot.emulator.wait_for(lambda: bool(bot.emulator.state.modal_stack("U0BOB")))
    view = bot.emulator.state.modal_stack("U0BOB")[-1]
    bot.signer.view_submission(
        "U0BOB", view.id, {OhBlock.QUESTION: {OhAction.QUESTION: HOSTILE_TEXT}}
    )

    queue = str(bot.signer.slash_command("U0CAROL", "office-hours").json)
    assert "&lt;!channel&gt;" in queue and "— <@U0BOB>" in queue
    bot.clock.now = datetime(2026, 12, 3, 13, 45, 30, tzinfo=UTC)  # 14:45:30 Berlin
    bot.tick()  # the last reminder, and the hosts' brief with the queue
    brief = bot.dm_messages("U0ALICE")
    assert brief and "&lt;https://evil.example/sso|Approve in the portal&gt;" in str(
        brief[-1].blocks
    )
    assert raw_markup_shown(bot.emulator) == []


def test_a_long_question_queue_is_cut_without_breaking_an_entity(bot: SurveyBot) -> None:
    bot.tick()
    session_id = bot.surveys.office_hours.sessions.overview().session.id
    for n in range(20):
        bot.surveys.office_hours.sessions.add_question(
            session_id=session_id, user_id=f"U0ASKER{n:02d}", text="&" * 2000
        )
    queue = bot.signer.slash_command("U0DAVE", "office-hours").json
    listing = next(
        b["text"]["text"] for b in queue["blocks"] if "Question queue" in b["text"]["text"]
    )
    assert len(listing) <= 3000 and listing.endswith("…")
    lines = listing.splitlines()[1:]
    assert len(lines) > 1
    for line in lines:
        assert line.count("&") == line.count("&amp;"), line[-40:]
    for line in lines[:-1]:  # every question is cut on its own, before its author
        assert re.search(r"&amp;… — <@U0ASKER\d\d>$", line), line[-40:]
