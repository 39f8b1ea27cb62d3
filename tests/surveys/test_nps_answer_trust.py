"""What an NPS payload claims is checked against the fan-out's ledger, never believed.

Only people a round was sent to (a delivery row) may open, snooze or answer it, and the
thank-you edits the DM the bot itself recorded, whatever message the modal says it came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from surveys.nps.ids import ActionId, BlockId
from surveys.nps.models import NpsAnswer, NpsDelivery, NpsRespondent
from tests.surveys.conftest import SurveyBot, survey_bot
from tests.surveys.test_bad_input_and_office_hours import CONFIG, START

OUTSIDER = "U0ALICE"  # an admin, but not in #payments, the audience of `pulse`
NOT_SENT = "This survey was not sent to you"


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(
        tmp_path, CONFIG, workspace=None, start=START, schema=migrated_schema
    ) as running:
        running.signer.slash_command("U0ALICE", "nps run pulse")
        running.run_jobs()
        yield running


def _web(bot: SurveyBot) -> WebClient:
    return WebClient(token=bot.emulator.bot_token, base_url=bot.emulator.api_url)


def _invite(bot: SurveyBot, user: str) -> Any:
    return next(m for m in bot.dm_messages(user) if "Take the survey" in str(m.blocks))


def _take(bot: SurveyBot, user: str, invite: Any) -> Any:
    before = len(bot.emulator.state.modal_stack(user))
    bot.signer.block_action(user, action_id=ActionId.TAKE, message=(invite.channel, invite.ts))
    assert bot.emulator.wait_for(lambda: len(bot.emulator.state.modal_stack(user)) > before)
    return bot.emulator.state.modal_stack(user)[-1]


def _open_forged(bot: SurveyBot, user: str, spec: dict[str, Any], metadata: dict[str, Any]) -> str:
    """`user` gets a survey modal whose private_metadata says whatever they like."""
    keep = ("type", "callback_id", "title", "submit", "close", "blocks")
    forged = {key: spec[key] for key in keep} | {"private_metadata": json.dumps(metadata)}
    opened = _web(bot).views_open(trigger_id=bot.emulator.mint_trigger_id(user), view=forged)
    return str(opened["view"]["id"])


def _stored(bot: SurveyBot) -> tuple[int, int]:
    with bot.services.sessions() as session:
        answers = session.scalar(select(func.count()).select_from(NpsAnswer)) or 0
        respondents = session.scalar(select(func.count()).select_from(NpsRespondent)) or 0
    return answers, respondents


def test_someone_outside_the_audience_cannot_open_the_survey(bot: SurveyBot) -> None:
    view = _take(bot, OUTSIDER, _invite(bot, "U0BOB"))  # a click on someone else's DM
    assert NOT_SENT in str(view.spec)
    assert view.spec["callback_id"] != "nps_answer"


def test_a_forged_answer_from_outside_the_audience_is_refused_and_stores_nothing(
    bot: SurveyBot,
) -> None:
    spec = _take(bot, "U0BOB", _invite(bot, "U0BOB")).spec
    view_id = _open_forged(bot, OUTSIDER, spec, {"round": 1})
    bot.signer.view_submission(OUTSIDER, view_id, {BlockId.SCORE: {ActionId.SCORE: "10"}})
    errors = bot.emulator.state.modal_stack(OUTSIDER)[-1].errors
    assert NOT_SENT in errors[BlockId.SCORE]
    assert _stored(bot) == (0, 0)
    assert bot.dm_messages(OUTSIDER) == []


def test_an_answer_edits_the_dm_the_bot_sent_not_the_message_the_modal_names(
    bot: SurveyBot,
) -> None:
    card = _web(bot).chat_postMessage(channel="C0APPROVALS", text="Approve db for payments?")
    invite = _invite(bot, "U0BOB")
    spec = _take(bot, "U0BOB", invite).spec
    metadata = {"round": 1, "channel": "C0APPROVALS", "ts": card["ts"]}
    view_id = _open_forged(bot, "U0BOB", spec, metadata)
    bot.signer.view_submission("U0BOB", view_id, {BlockId.SCORE: {ActionId.SCORE: "9"}})

    assert bot.emulator.wait_for(lambda: "Thanks" in bot.dm_messages("U0BOB")[0].text)
    assert bot.dm_messages("U0BOB")[0].ts == invite.ts
    approvals = bot.emulator.messages("C0APPROVALS")
    assert [m.text for m in approvals] == ["Approve db for payments?"]
    assert approvals[0].edited is None
    assert _stored(bot) == (1, 1)


def test_remind_me_later_from_outside_the_audience_is_refused(bot: SurveyBot) -> None:
    invite = _invite(bot, "U0BOB")
    bot.signer.block_action(
        OUTSIDER, action_id=ActionId.SNOOZE, message=(invite.channel, invite.ts)
    )
    assert bot.emulator.wait_for(
        lambda: any(NOT_SENT in e.text for e in bot.emulator.state.ephemerals(OUTSIDER))
    )
    with bot.services.sessions() as session:
        rows = session.scalars(select(NpsDelivery).where(NpsDelivery.user_id == OUTSIDER)).all()
    assert rows == []
