"""Running rounds by hand: one open round at a time, numbers per campaign, honest progress."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from bot.core.db import SessionFactory
from bot.core.errors import Conflict
from bot.core.feedback import RatingSummary
from integrations.fakes import FakeMessenger
from integrations.protocols import DirectoryUser
from surveys.nps import views
from surveys.nps.jobs import NpsFanOut
from surveys.nps.models import NpsDelivery, NpsRound
from surveys.nps.service.types import DeliveryProgress, NpsResults, RoundSummary, TeamResult
from tests.clock import Clock
from tests.surveys.conftest import SurveyBot, survey_bot
from tests.surveys.test_bad_input_and_office_hours import CONFIG, START
from tests.surveys.test_delivery import MONDAY, OFFICE, _config, _people, _service

TWO_CAMPAIGNS = (
    _config(OFFICE)
    + """
    - name: platform-dx
      schedule: "0 9 1 * *"
      audience: {kind: everyone}
      open_days: 2
"""
)


def _rounds(sessions: SessionFactory) -> list[tuple[str, int]]:
    with sessions() as session:
        return [
            (campaign, number)
            for campaign, number in session.execute(
                select(NpsRound.campaign, NpsRound.number).order_by(NpsRound.id)
            )
        ]


def test_a_round_cannot_be_run_while_one_is_open(sessions: SessionFactory) -> None:
    clock = Clock(MONDAY)
    nps = _service(sessions, _people(3), clock, FakeMessenger(), _config(OFFICE))
    first = nps.campaigns.run_now("pulse", actor="U1")
    nps.fanout.prepare_round(first.id)
    clock.now = first.closes_at - timedelta(seconds=1)
    with pytest.raises(Conflict) as refused:
        nps.campaigns.run_now("pulse", actor="U1")
    assert refused.value.message == (
        "Round 1 of `pulse` is still open: it takes answers until 2026-12-07 08:30 UTC. "
        "Run a new round after it closes."
    )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(NpsRound)) == 1
        assert session.scalar(select(func.count()).select_from(NpsDelivery)) == 3

    clock.now = first.closes_at  # closed: it takes no more answers
    second = nps.campaigns.run_now("pulse", actor="U1")
    assert (second.number, second.id) == (2, first.id + 1)


def test_a_paused_campaign_cannot_be_run(sessions: SessionFactory) -> None:
    clock = Clock(MONDAY)
    nps = _service(sessions, _people(3), clock, FakeMessenger(), _config(OFFICE))
    nps.campaigns.set_paused("pulse", paused=True, actor="U1")
    with pytest.raises(Conflict) as refused:
        nps.campaigns.run_now("pulse", actor="U1")
    assert refused.value.message == (
        "Campaign `pulse` is paused, so it cannot be run. "
        "Resume it first with `/platform nps resume pulse`."
    )
    assert _rounds(sessions) == []
    nps.campaigns.set_paused("pulse", paused=False, actor="U1")
    assert nps.campaigns.run_now("pulse", actor="U1").number == 1


def test_rounds_are_numbered_per_campaign(sessions: SessionFactory) -> None:
    clock = Clock(MONDAY)
    nps = _service(sessions, _people(2), clock, FakeMessenger(), TWO_CAMPAIGNS)
    nps.campaigns.run_now("pulse", actor="U1")
    nps.campaigns.run_now("platform-dx", actor="U1")
    clock.advance(days=2)  # platform-dx closed, pulse still open
    nps.campaigns.run_now("platform-dx", actor="U1")
    clock.advance(days=7)
    nps.campaigns.run_now("pulse", actor="U1")
    assert _rounds(sessions) == [("pulse", 1), ("platform-dx", 1), ("platform-dx", 2), ("pulse", 2)]
    listed = str(views.build_campaign_list(nps.campaigns.campaigns()))
    assert "last round 2 (2026-12-09)" in listed


def test_progress_counts_the_audience_and_says_when_the_rest_go_out(
    sessions: SessionFactory,
) -> None:
    users = [
        DirectoryUser(id="U1", name="berlin", real_name="B", tz="Europe/Berlin"),
        DirectoryUser(id="U2", name="tokyo", real_name="T", tz="Asia/Tokyo"),
        DirectoryUser(id="U3", name="la", real_name="L", tz="America/Los_Angeles"),
    ]
    clock = Clock(MONDAY)  # 09:30 in Berlin, 17:30 in Tokyo, 00:30 in Los Angeles
    nps = _service(sessions, users, clock, FakeMessenger(), _config(OFFICE))
    round_ = nps.campaigns.run_now("pulse", actor="U1")
    shown = str(views.build_results(nps.results.results("pulse"), []))
    assert "finding who to ask" in shown and "0 of 0" not in shown

    nps.fanout.prepare_round(round_.id)
    nps.fanout.send_due(round_.id)
    shown = str(views.build_results(nps.results.results("pulse"), []))
    assert "0 of 0" not in shown
    assert "(0 of 1 reached)" in shown
    assert (
        "3 people; 1 sent, 2 waiting for their working hours "
        "(next at Mon 09:00 in their time zone)" in shown
    )
    listed = str(views.build_campaign_list(nps.campaigns.campaigns()))
    assert "3 people; 1 sent, 2 waiting" in listed

    clock.now = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles: due now
    shown = str(views.build_results(nps.results.results("pulse"), []))
    assert "3 people; 1 sent, 2 being sent now" in shown
    nps.fanout.send_due(round_.id)
    shown = str(views.build_results(nps.results.results("pulse"), []))
    assert "3 people; 2 sent, 1 waiting for their working hours (next at Tue 09:00" in shown
    clock.now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    nps.fanout.send_due(round_.id)
    shown = str(views.build_results(nps.results.results("pulse"), []))
    assert "3 people; 3 sent" in shown and "waiting" not in shown


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(
        tmp_path, CONFIG, workspace=None, start=START, schema=migrated_schema
    ) as running:
        yield running


def test_run_says_what_happens_and_refuses_a_second_open_round(bot: SurveyBot) -> None:
    opened = bot.signer.slash_command("U0ALICE", "nps run pulse").json["text"]
    assert opened.startswith("Round 1 of `pulse` is open until 2026-12-03 13:00 UTC.")
    bot.run_jobs()
    invitations = {user: len(bot.dm_messages(user)) for user in ("U0BOB", "U0CAROL")}
    assert invitations == {"U0BOB": 1, "U0CAROL": 1}

    again = bot.signer.slash_command("U0ALICE", "nps run pulse").json["text"]
    assert again.startswith("Round 1 of `pulse` is still open")
    bot.run_jobs()
    assert {user: len(bot.dm_messages(user)) for user in ("U0BOB", "U0CAROL")} == invitations

    bot.signer.slash_command("U0ALICE", "nps pause pulse")
    bot.clock.advance(days=2)
    paused = bot.signer.slash_command("U0ALICE", "nps run pulse").json["text"]
    assert "`/platform nps resume pulse`" in paused

    other = bot.signer.slash_command("U0ALICE", "nps run ghost").json["text"]
    assert other.startswith("Round 1 of `ghost` is open")
    bot.run_jobs()
    notices = [m.text for m in bot.emulator.messages("C0PLATFORM")]
    assert any("round 1 reached nobody" in text for text in notices), notices


def test_a_failed_fan_out_names_the_round_as_admins_know_it(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(MONDAY)
    nps = _service(sessions, _people(1), clock, FakeMessenger(), TWO_CAMPAIGNS)
    nps.campaigns.run_now("pulse", actor="U1")
    second = nps.campaigns.run_now("platform-dx", actor="U1")
    with caplog.at_level(logging.WARNING, logger="surveys.nps.service"):
        NpsFanOut(nps.fanout).on_failure(SimpleNamespace(payload={"round_id": second.id}), "boom")
    assert "Delivering round 1 of `platform-dx` failed: boom" in caplog.text


def test_results_with_many_teams_and_actions_stay_within_block_kit_limits() -> None:
    summary = RoundSummary(
        id=1,
        number=1,
        scheduled_for=MONDAY,
        closes_at=MONDAY + timedelta(days=7),
        delivery=DeliveryProgress(audience=3000, reached=3000),
        responded=1500,
        answers=1500,
        nps=12.0,
        distribution=[0] * 10 + [1500],
    )
    results = NpsResults(
        campaign="pulse",
        anonymity="anonymous",
        min_group_size=5,
        rounds=[summary],
        teams=[TeamResult(f"team-{n:03d}", 5, 20.0) for n in range(300)],
    )
    csat = [RatingSummary(f"feature-{n:03d}.action", 3, 9, 4.2) for n in range(200)]
    sections = [b["text"]["text"] for b in views.build_results(results, csat) if "text" in b]
    by_team = next(text for text in sections if text.startswith("*By team*"))
    actions = next(text for text in sections if text.startswith("*Action CSAT"))
    assert len(by_team) == len(actions) == 3000
    assert by_team.endswith("…") and actions.endswith("…")
