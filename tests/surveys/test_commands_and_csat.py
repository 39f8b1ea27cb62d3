"""Admin commands (`/platform nps …`, `/platform jobs`) and action CSAT through the emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from surveys.csat.ids import ActionId as CsatAction
from tests.surveys.conftest import SurveyBot, survey_bot
from tests.surveys.test_bad_input_and_office_hours import CONFIG

START = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(
        tmp_path, CONFIG, workspace=None, start=START, schema=migrated_schema
    ) as running:
        yield running


def test_admins_list_pause_resume_and_export(bot: SurveyBot) -> None:
    listing = bot.signer.slash_command("U0ALICE", "nps list").json
    assert "pulse" in str(listing) and "ghost" in str(listing)
    assert "paused" in bot.signer.slash_command("U0ALICE", "nps pause pulse").json["text"]
    assert "already paused" in bot.signer.slash_command("U0ALICE", "nps pause pulse").json["text"]
    assert ":double_vertical_bar: paused" in str(
        bot.signer.slash_command("U0ALICE", "nps list").json
    )
    assert "resumed" in bot.signer.slash_command("U0ALICE", "nps resume pulse").json["text"]
    unknown = bot.signer.slash_command("U0ALICE", "nps pause nope").json["text"]
    assert "no NPS campaign called `nope`" in unknown

    refused = bot.signer.slash_command("U0BOB", "nps list").json["text"]
    assert "pulse" not in refused

    bot.signer.slash_command("U0ALICE", "nps run pulse")
    bot.run_jobs()
    bot.surveys.nps.answers.answer(
        round_id=1, user_id="U0BOB", score=9, comment="=cmd() looks handy"
    )
    bot.signer.slash_command("U0ALICE", "nps export pulse")
    assert bot.emulator.wait_for(
        lambda: any(f["name"].endswith(".csv") and f["uploaded"] for f in bot.emulator.state.files),
        timeout=10,
    )
    csv_file = next(f for f in bot.emulator.state.files if f["name"].endswith(".csv"))
    text = csv_file["content"].decode()
    assert "U0BOB" in text  # attributed campaign
    assert "'=cmd() looks handy" in text  # not a spreadsheet formula


def test_jobs_lists_the_survey_schedules_for_admins(bot: SurveyBot) -> None:
    bot.services.scheduler.start()  # becomes leader and writes the job store
    try:
        deadline = time.monotonic() + 10
        while len(bot.services.scheduler.jobs()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        shown = str(bot.signer.slash_command("U0ALICE", "jobs").json)
    finally:
        bot.services.scheduler.stop()
    for job in (
        "nps:pulse",
        "nps:ghost",
        "office-hours:platform",
        "nps-sweep",
        "office-hours-sweep",
    ):
        assert job in shown


def test_action_csat_asks_once_per_period_and_records_the_rating(bot: SurveyBot) -> None:
    csat = bot.surveys.csat
    parent = bot.emulator.state.messages("C0GENERAL")
    assert csat.request(user_id="U0BOB", action="db.create", channel="C0GENERAL", thread_ts=None)
    assert not csat.request(user_id="U0BOB", action="env.create", channel="C0GENERAL")
    bot.clock.advance(days=31)
    assert csat.request(user_id="U0BOB", action="env.create", channel="C0GENERAL")
    asks = bot.emulator.state.messages("C0GENERAL")[len(parent) :]
    assert len(asks) == 2
    first = asks[0]
    bot.signer.block_action(
        "U0CAROL", action_id=f"{CsatAction.RATE_PREFIX}5", message=(first.channel, first.ts)
    )
    bot.signer.block_action(
        "U0BOB", action_id=f"{CsatAction.RATE_PREFIX}4", message=(first.channel, first.ts)
    )
    assert bot.emulator.wait_for(
        lambda: "you rated it 4/5" in bot.emulator.state.messages("C0GENERAL")[len(parent)].text
    )
    summary = {s.action: s for s in csat.summary(days=90)}
    assert summary["db.create"].ratings == 1 and summary["db.create"].average == 4.0
    assert summary["env.create"].ratings == 0
