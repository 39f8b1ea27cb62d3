"""The NPS loop end to end through the emulator: schedule, fan-out, modal, reminders, results."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.emulator.workspace import Workspace
from surveys.nps.ids import ActionId, BlockId
from surveys.nps.models import NpsAnswer, NpsDelivery, NpsRespondent
from tests.surveys.conftest import SurveyBot, survey_bot

ADMIN = "U00000000"
CONFIG = f"""
platform: {{name: Test Platform, timezone: Europe/Berlin}}
roles:
  admin: {{members: [{ADMIN}]}}
policies:
  - {{action: "nps.*", allow: ["role:admin"]}}
  - {{action: "admin.*", allow: ["role:admin"]}}
surveys:
  admin_channel: C0GENERAL
  delivery:
    working_hours: {{start: "00:00", end: "23:59", days: [mon, tue, wed, thu, fri, sat, sun]}}
  campaigns:
    - name: pulse
      schedule: "0 9 * * mon"
      timezone: Europe/Berlin
      audience: {{kind: everyone}}
      reminders: {{count: 2, every_hours: 24}}
      open_days: 7
      anonymity: anonymous
"""
# Monday 30 November 2026, 08:59 in Berlin (07:59 UTC).
BEFORE = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)
SCORES = [10] * 15 + [8] * 10 + [3] * 5  # NPS (15 - 5) / 30 = +33


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(
        tmp_path,
        CONFIG,
        workspace=Workspace.generate(users=50),
        start=BEFORE,
        schema=migrated_schema,
    ) as b:
        yield b


def _invitations(bot: SurveyBot, user: str) -> list[object]:
    return [m for m in bot.dm_messages(user) if "Take the survey" in str(m.blocks)]


def _answer(bot: SurveyBot, user: str, score: int, comment: str) -> None:
    invite = _invitations(bot, user)[0]
    bot.signer.block_action(user, action_id=ActionId.TAKE, message=(invite.channel, invite.ts))
    assert bot.emulator.wait_for(lambda: bool(bot.emulator.state.modal_stack(user)))
    view = bot.emulator.state.modal_stack(user)[-1]
    bot.signer.view_submission(
        user,
        view.id,
        {BlockId.SCORE: {ActionId.SCORE: str(score)}, BlockId.COMMENT: {ActionId.COMMENT: comment}},
    )


def test_a_campaign_round_from_schedule_to_results(bot: SurveyBot) -> None:
    people = [u.id for u in bot.emulator.workspace.humans]
    assert len(people) == 50
    bot.tick()
    bot.run_jobs()
    assert all(not bot.dm_messages(p) for p in people), "nothing before 09:00"

    bot.clock.advance(minutes=1, seconds=30)  # 09:00:30 Berlin
    bot.tick()
    bot.tick()  # the scheduled task and the sweep may both fire: still one round
    bot.run_jobs()
    assert [len(_invitations(bot, p)) for p in people] == [1] * 50
    assert not bot.dm_messages("U0PLATBOT")

    answering, silent = people[:30], people[30:]
    for user, score in zip(answering, SCORES, strict=True):
        _answer(bot, user, score, f"comment from a person who gave {score}")
    for user in answering:
        assert bot.emulator.wait_for(
            lambda user=user: "Thanks for answering" in bot.dm_messages(user)[0].text
        )

    for _ in range(4):  # a day at a time, past both reminders
        bot.clock.advance(hours=24, minutes=1)
        bot.tick()
        bot.run_jobs()
    for user in answering:
        assert len(bot.dm_messages(user)) == 1
    for user in silent:
        texts = [m.text for m in bot.dm_messages(user)]
        assert len(texts) == 3, texts
        assert texts[1].startswith("A gentle reminder") and texts[2].startswith("Last reminder")

    response = bot.signer.slash_command(ADMIN, "nps pulse")
    shown = str(response.json)
    assert "+33" in shown
    assert "60% (30 of 50 reached)" in shown
    assert "50 people; 50 sent" in shown
    assert "comment from a person" in shown
    assert bot.emulator.wait_for(
        lambda: any(
            f["name"] == "nps-pulse-trend.png"
            and f["uploaded"]
            and f["content"].startswith(b"\x89PNG")
            for f in bot.emulator.state.files
        ),
        timeout=20,
    )

    with bot.services.sessions() as session:
        answers = session.scalars(select(NpsAnswer)).all()
        assert len(answers) == 30
        stored = {str(value) for a in answers for value in vars(a).values()}
        assert not stored & set(people), "anonymous answers hold no user id"
        assert all(a.user_id is None for a in answers)
        assert len(session.scalars(select(NpsRespondent)).all()) == 30
        states = {d.state for d in session.scalars(select(NpsDelivery))}
        assert states <= {"sent", "skipped"}
