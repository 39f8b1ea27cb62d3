"""A person's shifts over a window (`OnCallProvider.shifts_for`): the rotation file, the
fake, and the window rule they share (started before and still running is in; starting
exactly at the window's end is out)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrations.errors import ProviderUnavailable
from integrations.fakes import FakeOnCall
from integrations.oncall_window import SHIFTS_MAX, within
from integrations.protocols import OnCallPerson, OnCallShift
from integrations.rotation import RotationProvider

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
UNTIL = NOW + timedelta(days=14)
BOB = OnCallPerson("Bob", "bob@example.com")

ROTATIONS = """\
rotations:
  payments:                           # daily, Bob and Carol; Bob's shift covers NOW
    participants: [bob@example.com, carol@example.com]
    rotation_length: 1d
    handoff_time: "09:00"
    time_zone: UTC
    start: 2026-11-26
  search:                             # Bob alone: one long shift, not fourteen
    participants: [Bob@Example.com]
    rotation_length: 1d
    handoff_time: "10:00"
    time_zone: UTC
    start: 2026-11-01
  slack-ids:
    participants: [U0BOB, U0CAROL, U0DAVE]
    rotation_length: 1w
    handoff_time: "12:00"
    time_zone: UTC
    start: 2026-12-10                  # U0BOB: a shift ends exactly at NOW, one starts at UNTIL
"""


def _provider(tmp_path: Path, text: str = ROTATIONS) -> RotationProvider:
    path = tmp_path / "rotations.yaml"
    path.write_text(text, encoding="utf-8")
    return RotationProvider(path)


def _shift(start: datetime, end: datetime | None, schedule: str = "s") -> OnCallShift:
    return OnCallShift(person=BOB, start=start, end=end, schedule=schedule)


def test_the_window_keeps_a_running_shift_and_drops_one_starting_at_its_end() -> None:
    running = _shift(NOW - timedelta(hours=3), NOW + timedelta(hours=2))
    at_the_end = _shift(UNTIL, UNTIL + timedelta(days=1))
    ended_at_the_start = _shift(NOW - timedelta(days=1), NOW)
    last_minute = _shift(UNTIL - timedelta(minutes=1), UNTIL + timedelta(days=1))
    permanent = _shift(NOW - timedelta(days=400), None, "always")
    assert within([at_the_end, last_minute, ended_at_the_start, running], NOW, UNTIL) == [
        running,
        last_minute,
    ]
    assert within([permanent], NOW, UNTIL) == [permanent]
    assert within([], NOW, UNTIL) == []


def test_a_shift_reached_twice_is_one_and_many_are_cut_to_the_maximum() -> None:
    shift = _shift(NOW, NOW + timedelta(hours=1))
    assert within([shift, shift], NOW, UNTIL) == [shift]
    hourly = [
        _shift(NOW + timedelta(hours=i), NOW + timedelta(hours=i + 1))
        for i in range(SHIFTS_MAX + 1)
    ]
    found = within(reversed(hourly), NOW, UNTIL)
    assert found == hourly[:SHIFTS_MAX]  # sorted by start, the last one cut


def test_rotation_shifts_of_a_person_over_two_weeks(tmp_path: Path) -> None:
    shifts = _provider(tmp_path).shifts_for(
        email="BOB@example.com", slack_user_id="U0NOBODY", since=NOW, until=UNTIL
    )
    payments = [s for s in shifts if s.schedule == "payments"]
    # Day 0 (started at 09:00 before NOW), then every other day up to 10 Dec 09:00, three
    # hours before the window ends: eight shifts.
    assert len(payments) == 8
    assert payments[0].start == datetime(2026, 11, 26, 9, tzinfo=UTC) < NOW
    assert all(s.end is not None and s.start is not None for s in payments)
    assert all((s.end - s.start) == timedelta(days=1) for s in payments)  # type: ignore[operator]
    search = [s for s in shifts if s.schedule == "search"]
    assert len(search) == 1  # a rotation of one is one shift through the window
    assert search[0].start is not None and search[0].start <= NOW
    assert search[0].end is not None and search[0].end >= UNTIL
    assert [s.start for s in shifts] == sorted(s.start for s in shifts)  # type: ignore[type-var]


def test_rotation_matches_a_slack_id_and_leaves_out_shifts_touching_the_window(
    tmp_path: Path,
) -> None:
    provider = _provider(tmp_path)
    assert provider.shifts_for(email=None, slack_user_id="U0BOB", since=NOW, until=UNTIL) == []
    later = provider.shifts_for(
        email=None, slack_user_id="U0BOB", since=NOW, until=UNTIL + timedelta(seconds=1)
    )
    assert [(s.schedule, s.start) for s in later] == [("slack-ids", UNTIL)]


def test_rotation_has_no_shifts_for_someone_it_does_not_list(tmp_path: Path) -> None:
    provider = _provider(tmp_path)
    assert (
        provider.shifts_for(
            email="erin@example.com", slack_user_id="U0ERIN", since=NOW, until=UNTIL
        )
        == []
    )
    assert provider.shifts_for(email=None, slack_user_id=None, since=NOW, until=UNTIL) == []
    assert (
        provider.shifts_for(email="bob@example.com", slack_user_id=None, since=NOW, until=NOW) == []
    )


def test_rotation_override_splits_the_shift_it_covers(tmp_path: Path) -> None:
    text = ROTATIONS.split("  search:")[0] + (
        "    overrides:\n"
        "      - {person: dave@example.com, start: 2026-11-26T13:00, end: 2026-11-26T15:00}\n"
    )
    shifts = _provider(tmp_path, text).shifts_for(
        email="bob@example.com", slack_user_id=None, since=NOW, until=NOW + timedelta(days=1)
    )
    assert [(s.start, s.end) for s in shifts] == [
        (datetime(2026, 11, 26, 9, tzinfo=UTC), datetime(2026, 11, 26, 13, tzinfo=UTC)),
        (datetime(2026, 11, 26, 15, tzinfo=UTC), datetime(2026, 11, 27, 9, tzinfo=UTC)),
    ]


def test_a_broken_rotation_file_is_unavailable(tmp_path: Path) -> None:
    provider = _provider(tmp_path, "rotations: [oops")
    with pytest.raises(ProviderUnavailable):
        provider.shifts_for(email="bob@example.com", slack_user_id=None, since=NOW, until=UNTIL)


def test_the_fake_answers_by_email_within_the_window() -> None:
    fake = FakeOnCall()
    inside = _shift(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    fake.shifts["bob@example.com"] = [_shift(UNTIL, UNTIL + timedelta(hours=1)), inside]
    assert fake.shifts_for(email="Bob@Example.com", slack_user_id=None, since=NOW, until=UNTIL) == [
        inside
    ]
    fake.available = False
    with pytest.raises(ProviderUnavailable):
        fake.shifts_for(email="bob@example.com", slack_user_id=None, since=NOW, until=UNTIL)
