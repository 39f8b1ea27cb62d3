"""A CSAT prompt goes through the outbox: recorded before the post, confirmed with its ts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.core.db import SessionFactory
from bot.runtime.config import parse_config
from integrations.fakes import FakeMessenger
from surveys.csat.models import CsatRequest
from surveys.csat.service import CsatService
from surveys.csat.views import CsatMessageBuilder
from surveys.delivery import DmOutbox
from tests.surveys.conftest import Clock

NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


def _csat(sessions: SessionFactory, messenger: FakeMessenger, clock: Clock) -> CsatService:
    config = parse_config("surveys: {delivery: {time_scale: 0.001}}", "t.yaml", {}).surveys
    return CsatService(
        sessions=sessions,
        config=config.csat,
        outbox=DmOutbox.paced(messenger, config.delivery, sessions),
        messages=CsatMessageBuilder(),
        clock=clock,
    )


def _rows(sessions: SessionFactory) -> list[tuple[str, str | None, str | None]]:
    with sessions() as session:
        rows = session.execute(
            select(CsatRequest.channel, CsatRequest.thread_ts, CsatRequest.message_ts)
        ).all()
    return [tuple(row) for row in rows]


def test_a_prompt_lands_in_the_thread_and_its_ts_is_recorded(sessions: SessionFactory) -> None:
    messenger = FakeMessenger()
    csat = _csat(sessions, messenger, Clock(NOW))
    assert csat.request(user_id="U0BOB", action="db.create", channel="C0OPS", thread_ts="1.000")
    [posted] = messenger.messages["C0OPS"]
    assert posted["thread_ts"] == "1.000" and posted["text"] == "How did that go?"
    assert _rows(sessions) == [("C0OPS", "1.000", posted["ts"])]


def test_a_prompt_refused_with_429_is_not_retried_and_still_counts_as_asked(
    sessions: SessionFactory,
) -> None:
    messenger = FakeMessenger()
    messenger.rate_limit_next(1, retry_after=1)
    clock = Clock(NOW)
    csat = _csat(sessions, messenger, clock)
    assert not csat.request(user_id="U0BOB", action="db.create", channel="C0OPS")
    assert messenger.messages == {}
    assert _rows(sessions) == [("C0OPS", None, None)]
    clock.advance(days=29)
    assert not csat.request(user_id="U0BOB", action="env.create", channel="C0OPS")
    assert messenger.calls["post"] == 1
