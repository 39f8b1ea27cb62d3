"""Rating buttons (action CSAT, office-hours follow-ups) count only for whom they were posted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from surveys.csat.ids import ActionId as CsatAction
from surveys.csat.models import CsatRequest
from surveys.office_hours.ids import ActionId as OhAction
from surveys.office_hours.models import OfficeHoursAttendee
from surveys.office_hours.views import OfficeHoursMessageBuilder
from tests.hostile import HOSTILE_TEXT, raw_markup_shown
from tests.surveys.conftest import SurveyBot, survey_bot
from tests.surveys.test_bad_input_and_office_hours import CONFIG

# Wednesday 2 December 2026, 15:00:30 in Berlin: a day before the office hours.
START = datetime(2026, 12, 2, 14, 0, 30, tzinfo=UTC)


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(
        tmp_path, CONFIG, workspace=None, start=START, schema=migrated_schema
    ) as running:
        yield running


def _ephemeral_texts(bot: SurveyBot, user: str) -> list[str]:
    return [e.text for e in bot.emulator.state.ephemerals(user)]


def test_someone_else_cannot_rate_an_action_for_the_requester(bot: SurveyBot) -> None:
    assert bot.surveys.csat.request(user_id="U0BOB", action="db.create", channel="C0GENERAL")
    prompt = bot.emulator.messages("C0GENERAL")[-1]
    bot.signer.block_action(
        "U0CAROL", action_id=f"{CsatAction.RATE_PREFIX}1", message=(prompt.channel, prompt.ts)
    )
    assert bot.emulator.wait_for(
        lambda: any("Only <@U0BOB> was asked" in t for t in _ephemeral_texts(bot, "U0CAROL"))
    )
    with bot.services.sessions() as session:
        assert session.scalars(select(CsatRequest.score)).all() == [None]
    shown = bot.emulator.messages("C0GENERAL")[-1]
    assert shown.edited is None and "rated it" not in shown.text


def test_the_csat_prompt_shows_the_action_name_as_text(bot: SurveyBot) -> None:
    assert bot.surveys.csat.request(user_id="U0BOB", action=HOSTILE_TEXT, channel="C0GENERAL")
    bot.surveys.csat.rate(request_id=1, user_id="U0BOB", score=2)
    shown = str(bot.signer.slash_command("U0ALICE", "nps pulse").json)
    assert "Action CSAT" in shown
    assert raw_markup_shown(bot.emulator) == []


def test_only_attendees_who_were_asked_can_rate_a_session(bot: SurveyBot) -> None:
    bot.tick()
    reminder = bot.emulator.messages("C0GENERAL")[-1]
    bot.signer.block_action(
        "U0BOB", action_id=OhAction.ATTEND, message=(reminder.channel, reminder.ts)
    )
    session_id = bot.surveys.office_hours.sessions.overview().session.id
    assert bot.emulator.wait_for(
        lambda: bot.surveys.office_hours.sessions.overview().attendees == 1
    )

    # A follow-up card for the session, posted before the session took place: nobody was
    # asked yet, so a click on it (Bob's, or Carol's who never said she'd attend) counts for
    # nothing.
    info = bot.surveys.office_hours.sessions.session_info(session_id)
    follow_up = OfficeHoursMessageBuilder().follow_up(info)
    web = WebClient(token=bot.emulator.bot_token, base_url=bot.emulator.api_url)
    card = web.chat_postMessage(channel="C0GENERAL", text=follow_up.text, blocks=follow_up.blocks)
    for user in ("U0BOB", "U0CAROL"):
        bot.signer.block_action(
            user, action_id=f"{OhAction.RATE_PREFIX}5", message=("C0GENERAL", card["ts"])
        )
        assert bot.emulator.wait_for(
            lambda user=user: any("asked for feedback" in t for t in _ephemeral_texts(bot, user))
        )
    with bot.services.sessions() as session:
        assert session.scalars(select(OfficeHoursAttendee.rating)).all() == [None]

    bot.clock.now = datetime(2026, 12, 3, 15, 0, 30, tzinfo=UTC)  # the session has ended
    bot.tick()
    bot.run_jobs()
    follow_up = next(m for m in bot.dm_messages("U0BOB") if "office hours" in m.text)
    bot.signer.block_action(
        "U0BOB", action_id=f"{OhAction.RATE_PREFIX}4", message=(follow_up.channel, follow_up.ts)
    )
    assert bot.emulator.wait_for(
        lambda: "You rated the session 4/5" in bot.dm_messages("U0BOB")[-1].text
    )
    with bot.services.sessions() as session:
        assert session.scalars(select(OfficeHoursAttendee.rating)).all() == [4]
