"""Follow-up DMs go through the outbox: once each, after a 429, never twice when unknown."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.db import SessionFactory
from bot.core.errors import NotAllowed
from bot.core.jobs import JobQueue
from bot.runtime.config import parse_config
from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.fakes import FakeMessenger
from integrations.protocols import PostedMessage
from surveys.office_hours.feature import OfficeHoursServices, build_graph
from surveys.office_hours.models import OfficeHoursAttendee
from tests.surveys.conftest import Clock

CONFIG = """
surveys:
  delivery: {time_scale: 0.001}
  office_hours:
    - name: platform
      schedule: "0 15 * * thu"
      timezone: Europe/Berlin
      channel: C0GENERAL
      hosts: [U0ALICE]
"""
# Wednesday 2 December 2026; the session is on Thursday 15:00-16:00 in Berlin.
WEDNESDAY = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
AFTER_THE_SESSION = datetime(2026, 12, 3, 15, 0, 30, tzinfo=UTC)
ATTENDEES = ["U0BOB", "U0CAROL"]


class Unreliable(FakeMessenger):
    """Fails posts to some people: `lost` posts and then times out (the outcome is unknown
    to the bot), `refused` is refused."""

    def __init__(self, **failures: str) -> None:
        super().__init__()
        self.failures = failures

    def post(self, channel: str, **message: Any) -> PostedMessage:
        failure = self.failures.get(channel)
        if failure == "refused":
            raise ProviderRejected("fake-slack", "chat.postMessage failed: user_disabled")
        posted = super().post(channel, **message)
        if failure == "lost":
            raise ProviderUnavailable("fake-slack", "chat.postMessage failed: timed out")
        return posted


@dataclass
class Ended:
    services: OfficeHoursServices
    session_id: int
    clock: Clock


def _ended_session(sessions: SessionFactory, messenger: FakeMessenger) -> Ended:
    config = parse_config(CONFIG, "t.yaml", {})
    clock = Clock(WEDNESDAY)
    services = build_graph(
        config.surveys,
        sessions=sessions,
        messenger=messenger,
        jobs=JobQueue(sessions, clock=clock),
        clock=clock,
        resolve_user=lambda entry: entry,
    )
    session_id = services.sessions.overview().session.id
    for user in ATTENDEES:
        services.sessions.attend(session_id=session_id, user_id=user)
    clock.now = AFTER_THE_SESSION
    return Ended(services, session_id, clock)


def _states(sessions: SessionFactory) -> dict[str, str | None]:
    with sessions() as session:
        rows = session.execute(
            select(OfficeHoursAttendee.user_id, OfficeHoursAttendee.follow_up_state)
        ).all()
    return dict(rows)


def _follow_ups(messenger: FakeMessenger, user: str) -> list[object]:
    return [m["text"] for m in messenger.messages.get(f"D{user[1:]}", [])]


def test_each_attendee_gets_one_follow_up_however_often_it_runs(sessions: SessionFactory) -> None:
    messenger = FakeMessenger()
    ended = _ended_session(sessions, messenger)
    assert ended.services.follow_ups.send(ended.session_id) == 2
    assert ended.services.follow_ups.send(ended.session_id) == 0
    for user in ATTENDEES:
        assert _follow_ups(messenger, user) == ["How useful was today's office hours?"]
    assert _states(sessions) == {"U0BOB": "sent", "U0CAROL": "sent"}


def test_two_senders_at_once_post_each_follow_up_once(sessions: SessionFactory) -> None:
    messenger = FakeMessenger()
    ended = _ended_session(sessions, messenger)
    for user in (f"U0MORE{n}" for n in range(30)):
        with sessions.begin() as session:
            session.add(
                OfficeHoursAttendee(session_id=ended.session_id, user_id=user, created_at=WEDNESDAY)
            )
    sent: list[int] = []
    senders = [
        threading.Thread(
            target=lambda: sent.append(ended.services.follow_ups.send(ended.session_id))
        )
        for _ in range(2)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert sum(sent) == 32
    assert sorted(len(messages) for messages in messenger.messages.values()) == [1] * 32


def test_a_follow_up_refused_with_429_is_sent_once_slack_allows(sessions: SessionFactory) -> None:
    messenger = FakeMessenger()
    messenger.rate_limit_next(1, retry_after=5)
    ended = _ended_session(sessions, messenger)
    assert ended.services.follow_ups.send(ended.session_id) == 2
    for user in ATTENDEES:
        assert len(_follow_ups(messenger, user)) == 1
    assert messenger.calls["post"] == 3
    assert _states(sessions) == {"U0BOB": "sent", "U0CAROL": "sent"}


def test_a_follow_up_whose_post_may_have_arrived_is_not_posted_again_and_counts(
    sessions: SessionFactory,
) -> None:
    messenger = Unreliable(U0BOB="lost")
    ended = _ended_session(sessions, messenger)
    assert ended.services.follow_ups.send(ended.session_id) == 1
    assert _states(sessions) == {"U0BOB": "unconfirmed", "U0CAROL": "sent"}
    ended.services.follow_ups.send(ended.session_id)
    assert len(_follow_ups(messenger, "U0BOB")) == 1
    # The DM did arrive here: Bob's click on it counts.
    ended.services.follow_ups.rate(session_id=ended.session_id, user_id="U0BOB", rating=4)
    with sessions() as session:
        rating = session.scalar(
            select(OfficeHoursAttendee.rating).where(OfficeHoursAttendee.user_id == "U0BOB")
        )
    assert rating == 4


def test_a_refused_follow_up_fails_and_its_rating_does_not_count(sessions: SessionFactory) -> None:
    ended = _ended_session(sessions, Unreliable(U0BOB="refused", U0CAROL="refused"))
    assert ended.services.follow_ups.send(ended.session_id) == 0
    assert _states(sessions) == {"U0BOB": "failed", "U0CAROL": "failed"}
    with pytest.raises(NotAllowed) as refused:
        ended.services.follow_ups.rate(session_id=ended.session_id, user_id="U0BOB", rating=4)
    assert refused.value.message == "Only people asked for feedback on this session can rate it."
