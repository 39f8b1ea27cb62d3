"""The fan-out's guarantees on both databases: audience, working hours, exactly once, 429s."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.core.audit import AuditLog
from bot.core.db import SessionFactory
from bot.core.identity import IdentityService
from bot.core.jobs import JobQueue
from bot.runtime.config import parse_config
from integrations.errors import ProviderUnavailable
from integrations.fakes import FakeCharts, FakeMessenger, FakeRoster, FakeUserDirectory
from integrations.protocols import DirectoryUser, PostedMessage
from surveys.nps import views
from surveys.nps.feature import NpsServices, build_graph
from surveys.nps.models import NpsDelivery, NpsRound
from surveys.pace import Pacer
from tests.clock import Clock

# Monday 30 November 2026, 09:30 in Berlin.
MONDAY = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


def _config(hours: str, *, scale: float = 1.0, grace: int = 360) -> str:
    return f"""
surveys:
  missed_run_grace_minutes: {grace}
  delivery:
    senders: 4
    messages_per_minute: 6000
    time_scale: {scale}
    working_hours: {hours}
  campaigns:
    - name: pulse
      schedule: "0 9 * * mon"
      timezone: Europe/Berlin
      audience: {{kind: everyone}}
      reminders: {{count: 2, every_hours: 24}}
"""


QUESTION = "How likely are you to recommend the platform to a colleague?"
ALL_DAY = '{start: "00:00", end: "23:59", days: [mon, tue, wed, thu, fri, sat, sun]}'
OFFICE = '{start: "09:00", end: "17:00", days: [mon, tue, wed, thu, fri]}'


def _service(
    sessions: SessionFactory,
    users: list[DirectoryUser],
    clock: Clock,
    messenger: FakeMessenger,
    config_yaml: str,
) -> NpsServices:
    config = parse_config(config_yaml, "t.yaml", {})
    return build_graph(
        config.surveys,
        sessions=sessions,
        roster=FakeRoster(users),
        messenger=messenger,
        identity=IdentityService(FakeUserDirectory(users), config, sessions),
        jobs=JobQueue(sessions, clock=clock),
        audit=AuditLog(sessions),
        charts=FakeCharts(),
        clock=clock,
    )


def _people(count: int) -> list[DirectoryUser]:
    return [DirectoryUser(id=f"U{n:05d}", name=f"u{n}", real_name=f"U {n}") for n in range(count)]


def test_the_audience_is_people_reached_in_their_working_hours(sessions: SessionFactory) -> None:
    users = [
        DirectoryUser(id="U1", name="berlin", real_name="B", tz="Europe/Berlin"),
        DirectoryUser(id="U2", name="tokyo", real_name="T", tz="Asia/Tokyo"),
        DirectoryUser(id="U3", name="la", real_name="L", tz="America/Los_Angeles"),
        DirectoryUser(id="U4", name="bot", real_name="Bot", is_bot=True),
        DirectoryUser(id="U5", name="guest", real_name="G", is_restricted=True),
        DirectoryUser(id="U6", name="gone", real_name="D", deleted=True),
    ]
    clock = Clock(MONDAY)
    nps = _service(sessions, users, clock, FakeMessenger(), _config(OFFICE))
    round_ = nps.campaigns.run_now("pulse", actor="U1")
    assert nps.fanout.prepare_round(round_.id) == 3
    with sessions() as session:
        due = dict(session.execute(select(NpsDelivery.user_id, NpsDelivery.send_after)).all())
    assert due == {
        "U1": MONDAY,  # 09:30 in Berlin: now
        "U2": datetime(2026, 12, 1, 0, 0, tzinfo=UTC),  # 17:30 in Tokyo: Tuesday 09:00 JST
        "U3": datetime(2026, 11, 30, 17, 0, tzinfo=UTC),  # 00:30 in LA: Monday 09:00 PST
    }
    nps.fanout.send_due(round_.id)
    assert nps.fanout.schedule_rest(round_.id) == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def test_concurrent_senders_post_each_dm_once(sessions: SessionFactory) -> None:
    users = _people(120)
    clock = Clock(MONDAY)
    messenger = FakeMessenger()
    first = _service(sessions, users, clock, messenger, _config(ALL_DAY))
    second = _service(sessions, users, clock, messenger, _config(ALL_DAY))
    round_ = first.campaigns.run_now("pulse", actor="U1")
    first.fanout.prepare_round(round_.id)
    threads = [
        threading.Thread(target=s.fanout.send_due, args=(round_.id,)) for s in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(messages) for messages in messenger.messages.values()) == [1] * 120
    with sessions() as session:
        assert set(session.scalars(select(NpsDelivery.state))) == {"sent"}


def test_a_dm_interrupted_mid_post_is_not_posted_again(sessions: SessionFactory) -> None:
    users = _people(3)
    clock = Clock(MONDAY)
    messenger = FakeMessenger()
    nps = _service(sessions, users, clock, messenger, _config(ALL_DAY))
    round_ = nps.campaigns.run_now("pulse", actor="U1")
    nps.fanout.prepare_round(round_.id)
    with sessions.begin() as session:  # a sender died after recording its intent
        session.execute(
            update(NpsDelivery)
            .where(NpsDelivery.user_id == "U00001")
            .values(state="sending", claimed_by="gone", claimed_at=MONDAY - timedelta(minutes=5))
        )
    assert nps.fanout.recover_stale(round_.id) == 1
    nps.fanout.send_due(round_.id)
    assert set(messenger.messages) == {"D00000", "D00002"}
    clock.advance(hours=24, minutes=1)
    nps.tick()
    nps.fanout.send_due(round_.id)
    assert len(messenger.messages["D00001"]) == 1  # the reminder still reaches them
    assert messenger.messages["D00001"][0]["text"].startswith("A gentle reminder")


def test_a_fan_out_taken_over_settles_what_its_last_runner_left_sending(
    sessions: SessionFactory,
) -> None:
    users = _people(4)
    clock = Clock(MONDAY)
    nps = _service(sessions, users, clock, FakeMessenger(), _config(ALL_DAY))
    round_ = nps.campaigns.run_now("pulse", actor="U1")
    nps.fanout.prepare_round(round_.id)
    mine = nps.fanout._worker

    def claim(user: str, by: str, seconds_ago: float) -> None:
        with sessions.begin() as session:
            session.execute(
                update(NpsDelivery)
                .where(NpsDelivery.user_id == user)
                .values(
                    state="sending",
                    claimed_by=by,
                    claimed_at=MONDAY - timedelta(seconds=seconds_ago),
                )
            )

    claim("U00000", "killed-worker", 5)  # the stopped runner's, seconds ago
    claim("U00001", mine, 5)  # this sender's own, in flight
    claim("U00002", "killed-worker", 59)  # one second under the stale age
    claim("U00003", "killed-worker", 61)  # one second over it

    def states() -> dict[str, str]:
        with sessions() as session:
            return {
                str(user): str(state)
                for user, state in session.execute(select(NpsDelivery.user_id, NpsDelivery.state))
            }

    # A first attempt cannot tell a stopped sender from a slow one: only the old row.
    assert nps.fanout.recover_stale(round_.id) == 1
    assert states()["U00002"] == "sending" and states()["U00003"] == "unconfirmed"
    # A later attempt runs because the last runner stopped: its rows are settled at once.
    assert nps.fanout.recover_stale(round_.id, taken_over=True) == 2
    assert states() == {
        "U00000": "unconfirmed",
        "U00001": "sending",
        "U00002": "unconfirmed",
        "U00003": "unconfirmed",
    }


def test_a_dm_whose_post_timed_out_is_unconfirmed_and_not_posted_again(
    sessions: SessionFactory,
) -> None:
    class TimesOut(FakeMessenger):
        def post(self, channel: str, **message: Any) -> PostedMessage:
            posted = super().post(channel, **message)
            if channel == "U00001" and message["text"] == QUESTION:
                raise ProviderUnavailable("fake-slack", "chat.postMessage failed: timed out")
            return posted

    clock = Clock(MONDAY)
    messenger = TimesOut()
    nps = _service(sessions, _people(3), clock, messenger, _config(ALL_DAY))
    round_ = nps.campaigns.run_now("pulse", actor="U1")
    nps.fanout.prepare_round(round_.id)
    nps.fanout.send_due(round_.id)
    with sessions() as session:
        states = dict(session.execute(select(NpsDelivery.user_id, NpsDelivery.state)).all())
    assert states == {"U00000": "sent", "U00001": "unconfirmed", "U00002": "sent"}
    nps.fanout.send_due(round_.id)
    assert [len(messenger.messages[f"D0000{n}"]) for n in range(3)] == [1, 1, 1]
    shown = str(views.build_results(nps.results.results("pulse"), []))
    assert "3 people; 3 sent" in shown  # it may have arrived: counted as reached
    clock.advance(hours=24, minutes=1)
    nps.tick()
    nps.fanout.send_due(round_.id)
    assert messenger.messages["D00001"][-1]["text"].startswith("A gentle reminder")


def test_rate_limited_posts_wait_and_are_sent_once(sessions: SessionFactory) -> None:
    users = _people(10)
    clock = Clock(MONDAY)
    messenger = FakeMessenger()
    messenger.rate_limit_next(3, retry_after=2)
    nps = _service(sessions, users, clock, messenger, _config(ALL_DAY, scale=0.01))
    round_ = nps.campaigns.run_now("pulse", actor="U1")
    nps.fanout.prepare_round(round_.id)
    nps.fanout.send_due(round_.id)
    assert sorted(len(m) for m in messenger.messages.values()) == [1] * 10
    assert nps.outbox.pacer.rate_limited == 3
    assert messenger.calls["post"] == 13


def test_a_missed_round_is_sent_within_the_grace_and_skipped_after(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    before = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 08:00 Berlin, an hour before
    clock = Clock(before)
    nps = _service(sessions, _people(2), clock, FakeMessenger(), _config(ALL_DAY, grace=60))
    nps.tick()  # the campaign is armed
    clock.now = datetime(2026, 11, 30, 8, 45, tzinfo=UTC)  # down at 09:00, back 45 min later
    nps.tick()
    nps.tick()
    with sessions() as session:
        assert len(session.scalars(select(NpsRound)).all()) == 1
    clock.now = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)  # next Monday, 90 minutes late
    with caplog.at_level(logging.WARNING, logger="surveys.nps.service"):
        nps.tick()
    with sessions() as session:
        assert len(session.scalars(select(NpsRound)).all()) == 1
    assert any("skipped" in r.getMessage() for r in caplog.records)


def test_the_pacer_holds_to_its_window() -> None:
    pacer = Pacer(5, 60.0, time_scale=0.004)  # 5 calls per 0.24 s
    started = time.monotonic()
    for _ in range(11):
        pacer.acquire()
        pacer.complete()
    assert time.monotonic() - started >= 0.47  # the 6th and the 11th wait a window each
    pacer.acquire()
    pacer.rate_limited_for(25)  # Retry-After 25 s, scaled: 0.1 s
    before = time.monotonic()
    pacer.acquire()
    assert time.monotonic() - before >= 0.09


def test_remind_me_later_sends_once_more_after_a_few_working_hours(
    sessions: SessionFactory,
) -> None:
    users = [DirectoryUser(id="U1", name="b", real_name="B", tz="Europe/Berlin")]
    clock = Clock(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # 15:00 Berlin
    messenger = FakeMessenger()
    nps = _service(sessions, users, clock, messenger, _config(OFFICE))
    round_ = nps.campaigns.run_now("pulse", actor="U1")
    nps.fanout.prepare_round(round_.id)
    nps.fanout.send_due(round_.id)
    later = nps.fanout.snooze(round_.id, "U1")
    assert later == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 19:00 is after hours: 09:00 Tue
    assert nps.fanout.snooze(round_.id, "U1") == later  # a second click changes nothing
    nps.fanout.send_due(round_.id)
    assert len(messenger.messages["D1"]) == 1
    clock.now = later
    nps.fanout.send_due(round_.id)
    texts = [m["text"] for m in messenger.messages["D1"]]
    assert len(texts) == 2 and texts[1].startswith("As you asked")
