"""What the surveys put on a person's dashboard: their open NPS invitations and unrated CSAT
prompts, only their own, with the feature's own buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.db import SessionFactory
from bot.core.identity import Principal
from bot.runtime.config import parse_config
from surveys.config import Csat
from surveys.csat.ids import ActionId as CsatAction
from surveys.csat.models import CsatRequest
from surveys.csat.service import CsatDashboard
from surveys.nps.ids import ActionId as NpsAction
from surveys.nps.models import NpsDelivery, NpsRespondent, NpsRound
from surveys.nps.service.dashboard import ROUNDS_MAX, NpsDashboard
from tests.clock import Clock

NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


def _principal(user_id: str) -> Principal:
    empty: frozenset[str] = frozenset()
    return Principal(user_id, user_id, None, None, False, False, False, empty, empty, empty, empty)


BOB, CAROL = _principal("U0BOB"), _principal("U0CAROL")


def _round(sessions: SessionFactory, number: int, closes_at: datetime) -> int:
    with sessions.begin() as session:
        row = NpsRound(
            campaign="pulse", number=number, scheduled_for=NOW - timedelta(days=number),
            opened_at=NOW - timedelta(days=1), closes_at=closes_at, trigger="schedule",
            anonymity="anonymous", question=f"Would you recommend us? ({number})",
            follow_up="Why?", min_group_size=5, reminders_planned=0,
            reminder_every_hours=24.0, reminders_sent=0, audience_size=2,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def _deliver(
    sessions: SessionFactory, round_id: int, user_id: str, state: str, kind: str = "invite"
) -> None:
    with sessions.begin() as session:
        session.add(
            NpsDelivery(round_id=round_id, user_id=user_id, kind=kind, state=state, send_after=NOW)
        )


def _nps(sessions: SessionFactory) -> NpsDashboard:
    return NpsDashboard(sessions=sessions, clock=Clock(NOW))


def test_an_open_round_whose_invitation_reached_me_waits_with_the_take_button(
    sessions: SessionFactory,
) -> None:
    open_round = _round(sessions, 1, NOW + timedelta(days=3))
    _deliver(sessions, open_round, "U0BOB", "sent")
    [survey] = _nps(sessions).items_for(BOB).surveys
    assert survey.what == "Would you recommend us? (1) (open until 2026-12-05)"
    [button] = survey.buttons
    assert (button.action_id, button.value, button.label) == (
        NpsAction.TAKE,
        str(open_round),
        "Take the survey",
    )
    assert not _nps(sessions).items_for(CAROL).surveys  # not invited: nothing of Bob's


@pytest.mark.parametrize(
    ("state", "shown"),
    [("sent", True), ("unconfirmed", True), ("pending", False), ("failed", False),
     ("skipped", False), ("sending", False)],
)  # fmt: skip
def test_only_an_invitation_that_reached_the_person_counts(
    sessions: SessionFactory, state: str, shown: bool
) -> None:
    _deliver(sessions, _round(sessions, 1, NOW + timedelta(days=3)), "U0BOB", state)
    assert bool(_nps(sessions).items_for(BOB).surveys) is shown


def test_answered_closed_and_reminder_only_rounds_are_not_shown(sessions: SessionFactory) -> None:
    answered = _round(sessions, 1, NOW + timedelta(days=3))
    _deliver(sessions, answered, "U0BOB", "sent")
    with sessions.begin() as session:
        session.add(NpsRespondent(round_id=answered, user_id="U0BOB"))
    closing_now = _round(sessions, 2, NOW)  # closes exactly now: closed
    _deliver(sessions, closing_now, "U0BOB", "sent")
    reminder_only = _round(sessions, 3, NOW + timedelta(days=3))
    _deliver(sessions, reminder_only, "U0BOB", "sent", kind="reminder-1")
    last_minute = _round(sessions, 4, NOW + timedelta(minutes=1))
    _deliver(sessions, last_minute, "U0BOB", "sent")
    _deliver(sessions, answered, "U0CAROL", "sent")  # Bob's answer is not Carol's
    assert [s.buttons[0].value for s in _nps(sessions).items_for(BOB).surveys] == [str(last_minute)]
    assert [s.buttons[0].value for s in _nps(sessions).items_for(CAROL).surveys] == [str(answered)]


def test_many_open_rounds_are_bounded_soonest_closing_first(sessions: SessionFactory) -> None:
    for number in range(1, ROUNDS_MAX + 2):
        _deliver(sessions, _round(sessions, number, NOW + timedelta(hours=number)), "U0BOB", "sent")
    surveys = _nps(sessions).items_for(BOB).surveys
    assert len(surveys) == ROUNDS_MAX
    assert surveys[0].what.startswith("Would you recommend us? (1)")


def _csat_config(**changes: object) -> Csat:
    return parse_config("surveys: {}", "t.yaml", {}).surveys.csat.model_copy(update=changes)


def _prompt(
    sessions: SessionFactory,
    user_id: str,
    asked: datetime,
    *,
    score: int | None = None,
    posted: bool = True,
) -> int:
    with sessions.begin() as session:
        row = CsatRequest(
            user_id=user_id, action="new_db.create", channel="C0OPS", thread_ts="1.0",
            message_ts="2.0" if posted else None, requested_at=asked, score=score,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def _csat(sessions: SessionFactory, **changes: object) -> CsatDashboard:
    return CsatDashboard(sessions=sessions, config=_csat_config(**changes), clock=Clock(NOW))


def test_an_unrated_prompt_waits_with_its_own_rating_buttons(sessions: SessionFactory) -> None:
    prompt = _prompt(sessions, "U0BOB", NOW - timedelta(days=1))
    [survey] = _csat(sessions).items_for(BOB).surveys
    assert survey.what.startswith("How did that go? (1 = poor, 5 = great;")
    assert "2026-12-01" in survey.what and "new_db" not in survey.what  # no policy id
    assert [(b.action_id, b.value) for b in survey.buttons] == [
        (f"{CsatAction.RATE_PREFIX}{score}", str(prompt)) for score in range(1, 6)
    ]
    assert not _csat(sessions).items_for(CAROL).surveys


def test_rated_unposted_expired_and_disabled_prompts_are_not_shown(
    sessions: SessionFactory,
) -> None:
    _prompt(sessions, "U0BOB", NOW - timedelta(days=1), score=4)
    _prompt(sessions, "U0BOB", NOW - timedelta(days=2), posted=False)
    _prompt(sessions, "U0BOB", NOW - timedelta(days=30))  # the period (30 days) is over
    assert not _csat(sessions).items_for(BOB).surveys
    just_inside = _prompt(sessions, "U0BOB", NOW - timedelta(days=30) + timedelta(seconds=1))
    assert [s.buttons[0].value for s in _csat(sessions).items_for(BOB).surveys] == [
        str(just_inside)
    ]
    assert not _csat(sessions, enabled=False).items_for(BOB).surveys


def test_surveys_cancel_nothing(sessions: SessionFactory) -> None:
    assert _nps(sessions).cancel(BOB, "1") is None
    assert _csat(sessions).cancel(BOB, "1") is None
