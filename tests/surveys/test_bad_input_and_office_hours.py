"""Bad input on the survey paths, and an office-hours session from reminders to follow-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.emulator.signer import SubmissionBlocked
from surveys.nps.ids import ActionId, BlockId
from surveys.nps.models import NpsAnswer
from surveys.office_hours.ids import ActionId as OhAction
from surveys.office_hours.ids import BlockId as OhBlock
from tests.surveys.conftest import SurveyBot, survey_bot

CONFIG = """
platform: {name: Test Platform, timezone: Europe/Berlin}
roles:
  admin: {members: [U0ALICE]}
policies:
  - {action: "nps.*", allow: ["role:admin"]}
  - {action: office-hours, allow: [everyone]}
  - {action: "admin.*", allow: ["role:admin"]}
surveys:
  admin_channel: C0PLATFORM
  delivery:
    working_hours: {start: "00:00", end: "23:59", days: [mon, tue, wed, thu, fri, sat, sun]}
  campaigns:
    - name: pulse
      schedule: "0 9 * * mon"
      audience: {kind: channel, channel: C0PAYMENTS}
      open_days: 1
      anonymity: attributed
    - name: ghost
      schedule: "0 9 * * mon"
      audience: {kind: usergroup, usergroup: nobody-here}
  office_hours:
    - name: platform
      schedule: "0 15 * * thu"
      timezone: Europe/Berlin
      channel: C0GENERAL
      hosts: [alice@example.com, U0DAVE]
      reminders_minutes_before: [1440, 15]
"""
# Wednesday 2 December 2026, 13:00 UTC = 14:00 in Berlin.
START = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(
        tmp_path, CONFIG, workspace=None, start=START, schema=migrated_schema
    ) as running:
        yield running


def _open_survey(bot: SurveyBot, user: str) -> str:
    invite = next(m for m in bot.dm_messages(user) if "Take the survey" in str(m.blocks))
    before = len(bot.emulator.state.modal_stack(user))
    bot.signer.block_action(user, action_id=ActionId.TAKE, message=(invite.channel, invite.ts))
    assert bot.emulator.wait_for(lambda: len(bot.emulator.state.modal_stack(user)) > before)
    return bot.emulator.state.modal_stack(user)[-1].id


def test_survey_refuses_bad_answers(bot: SurveyBot) -> None:
    bot.signer.slash_command("U0ALICE", "nps run pulse", channel_id="C0PLATFORM")
    bot.run_jobs()
    view_id = _open_survey(bot, "U0BOB")
    with pytest.raises(SubmissionBlocked) as blocked:
        bot.signer.view_submission("U0BOB", view_id, {BlockId.COMMENT: {ActionId.COMMENT: "hm"}})
    assert BlockId.SCORE in blocked.value.errors

    bot.signer.view_submission("U0BOB", view_id, {BlockId.SCORE: {ActionId.SCORE: "9"}})
    assert bot.emulator.wait_for(lambda: "Thanks" in bot.dm_messages("U0BOB")[0].text)
    # A second submission (a reminder's button, a replayed modal) keeps the first answer.
    outcome, _ = bot.surveys.nps.answers.answer(round_id=1, user_id="U0BOB", score=2, comment=None)
    assert outcome == "already_answered"
    assert bot.surveys.nps.answers.round_for_answer(1, "U0BOB")[1] == "already_answered"
    with bot.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(NpsAnswer)) == 1
        assert session.scalar(select(NpsAnswer.user_id)) == "U0BOB"  # attributed mode

    late_view = _open_survey(bot, "U0CAROL")
    bot.clock.advance(days=1, minutes=1)
    bot.signer.view_submission("U0CAROL", late_view, {BlockId.SCORE: {ActionId.SCORE: "7"}})
    assert "survey is closed" in str(bot.emulator.state.modal_stack("U0CAROL")[-1].spec)


def test_a_missing_score_is_a_field_error_from_the_bot(bot: SurveyBot) -> None:
    from surveys.nps import views

    parsed = views.parse_answer({"private_metadata": '{"round": 3}', "state": {"values": {}}})
    assert parsed.score is None and parsed.round_id == 3


def test_an_empty_audience_is_reported_to_the_admins(bot: SurveyBot) -> None:
    response = bot.signer.slash_command("U0ALICE", "nps run ghost", channel_id="C0PLATFORM")
    assert "is open" in response.json["text"]
    bot.run_jobs()
    notices = [m.text for m in bot.emulator.messages("C0PLATFORM")]
    assert any("`ghost` has an empty audience" in text for text in notices)


def test_an_office_hours_session_from_reminders_to_follow_up(bot: SurveyBot) -> None:
    general = bot.emulator.messages
    bot.tick()  # Wednesday 14:00 Berlin: the session exists, no reminder is due yet
    assert not general("C0GENERAL")

    bot.clock.advance(hours=1, seconds=30)  # Wednesday 15:00:30 Berlin: a day before
    bot.tick()
    bot.tick()
    reminders = general("C0GENERAL")
    assert len(reminders) == 1 and "tomorrow" in reminders[0].text
    assert "<@U0ALICE>" in str(reminders[0].blocks)  # first in the rotation
    session_id = bot.surveys.office_hours.sessions.overview().session.id
    assert bot.surveys.office_hours.sessions.overview().session.starts_at == datetime(
        2026, 12, 3, 14, 0, tzinfo=UTC
    )

    message = (reminders[0].channel, reminders[0].ts)
    bot.signer.block_action("U0BOB", action_id=OhAction.ASK, message=message)
    assert bot.emulator.wait_for(lambda: bool(bot.emulator.state.modal_stack("U0BOB")))
    view = bot.emulator.state.modal_stack("U0BOB")[-1]
    bot.signer.view_submission(
        "U0BOB", view.id, {OhBlock.QUESTION: {OhAction.QUESTION: "How do I get a staging DB?"}}
    )
    bot.signer.block_action("U0BOB", action_id=OhAction.ATTEND, message=message)
    bot.signer.block_action("U0CAROL", action_id=OhAction.ATTEND, message=message)
    assert bot.emulator.wait_for(
        lambda: bot.surveys.office_hours.sessions.overview().attendees == 2
    )

    shown = bot.signer.slash_command("U0ERIN", "office-hours").json
    assert "How do I get a staging DB?" in str(shown)

    bot.clock.now = datetime(2026, 12, 3, 13, 45, 30, tzinfo=UTC)  # 14:45:30 Berlin
    bot.tick()
    reminders = general("C0GENERAL")
    assert len(reminders) == 2 and "in 15 minutes" in reminders[1].text
    brief = bot.dm_messages("U0ALICE")
    assert brief and "How do I get a staging DB?" in str(brief[-1].blocks)

    bot.clock.now = datetime(2026, 12, 3, 15, 0, 30, tzinfo=UTC)  # 16:00:30 Berlin: it ended
    bot.tick()
    bot.run_jobs()
    bot.tick()
    bot.run_jobs()
    for person in ("U0BOB", "U0CAROL"):
        follow_ups = [m for m in bot.dm_messages(person) if "office hours" in m.text]
        assert len(follow_ups) == 1
        assert "stored with your name" in json.dumps(follow_ups[0].blocks)
    assert bot.surveys.office_hours.sessions.session_info(session_id).hosts == ["U0ALICE"]
