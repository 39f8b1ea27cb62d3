"""A first answer, snooze or "I'll attend" is told apart from a repeat on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.core.db import SessionFactory
from bot.core.jobs import JobQueue
from bot.core.jobs.model import Job
from bot.runtime.config import parse_config
from integrations.fakes import FakeMessenger
from integrations.protocols import DirectoryUser
from surveys.nps.feature import NpsServices
from surveys.nps.service.types import RoundRef
from surveys.office_hours.feature import build_graph
from tests.clock import Clock
from tests.surveys.test_bad_input_and_office_hours import CONFIG as OFFICE_HOURS_CONFIG
from tests.surveys.test_delivery import ALL_DAY, OFFICE, _config, _service

# Monday 30 November 2026, 15:00 in Berlin.
MONDAY_AFTERNOON = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def _fanout_runs(sessions: SessionFactory) -> list[datetime]:
    with sessions() as session:
        return sorted(session.scalars(select(Job.run_after).where(Job.kind == "nps.fanout")))


def _round_for_one(sessions: SessionFactory, hours: str) -> tuple[NpsServices, RoundRef]:
    users = [DirectoryUser(id="U1", name="b", real_name="B", tz="Europe/Berlin")]
    clock = Clock(MONDAY_AFTERNOON)
    nps = _service(sessions, users, clock, FakeMessenger(), _config(hours))
    round_ = nps.campaigns.run_now("pulse", actor="U1")
    nps.fanout.prepare_round(round_.id)
    return nps, round_


def test_the_first_answer_is_recorded_and_a_second_is_not(sessions: SessionFactory) -> None:
    nps, round_ = _round_for_one(sessions, ALL_DAY)
    first, _ = nps.answers.answer(round_id=round_.id, user_id="U1", score=10, comment=None)
    second, _ = nps.answers.answer(round_id=round_.id, user_id="U1", score=0, comment=None)
    assert (first, second) == ("recorded", "already_answered")
    assert nps.results.results("pulse").rounds[-1].distribution[10] == 1


def test_remind_me_later_queues_one_send_for_the_later_time(sessions: SessionFactory) -> None:
    nps, round_ = _round_for_one(sessions, OFFICE)
    before = _fanout_runs(sessions)
    later = nps.fanout.snooze(round_.id, "U1")
    assert nps.fanout.snooze(round_.id, "U1") == later
    assert _fanout_runs(sessions) == sorted([*before, later])


def test_saying_you_will_attend_twice_is_noted_once(sessions: SessionFactory) -> None:
    config = parse_config(OFFICE_HOURS_CONFIG, "t.yaml", {})
    clock = Clock(datetime(2026, 12, 2, 13, 0, tzinfo=UTC))
    service = build_graph(
        config.surveys,
        sessions=sessions,
        messenger=FakeMessenger(),
        jobs=JobQueue(sessions, clock=clock),
        clock=clock,
        resolve_user=lambda entry: entry,
    ).sessions
    session_id = service.overview().session.id
    assert service.attend(session_id=session_id, user_id="U0BOB") is True
    assert service.attend(session_id=session_id, user_id="U0BOB") is False
    assert service.overview().attendees == 1
