"""The rotation file: who is on call when, hand-offs across DST, overrides, bad files."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from integrations.errors import ProviderNotFound, ProviderUnavailable
from integrations.protocols import OnCallTarget, PageRequest
from integrations.rotation import Override, Rotation, RotationProvider, RotationSchedule

LONDON = ZoneInfo("Europe/London")


def _weekly(**changes: object) -> RotationSchedule:
    rotation = Rotation.model_validate(
        {
            "participants": ["bob@example.com", "carol@example.com", "dave@example.com"],
            "rotation_length": "1w",
            "handoff_time": "09:00",
            "time_zone": "Europe/London",
            "start": "2026-10-19",
            **changes,
        }
    )
    return RotationSchedule("payments", rotation)


def test_weekly_rotation_hands_off_at_local_time_across_a_dst_change() -> None:
    schedule = _weekly()
    # Week 2 (26 Oct) starts on the Monday after the clocks went back (25 Oct 2026).
    person, start, end = schedule.segment(datetime(2026, 10, 28, 12, 0, tzinfo=UTC))
    assert person == "carol@example.com"
    assert start == datetime(2026, 10, 26, 9, 0, tzinfo=LONDON)
    assert end == datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
    assert start.astimezone(UTC).hour == 9  # GMT after the change
    before = schedule.segment(datetime(2026, 10, 20, 7, 59, tzinfo=UTC))  # 08:59 BST
    assert before[0] == "bob@example.com"
    assert schedule.segment(datetime(2026, 10, 26, 8, 59, tzinfo=UTC))[0] == "bob@example.com"
    assert schedule.segment(datetime(2026, 10, 26, 9, 0, tzinfo=UTC))[0] == "carol@example.com"


def test_the_rotation_wraps_around_and_runs_backwards_before_its_start() -> None:
    schedule = _weekly()
    assert schedule.segment(datetime(2026, 11, 10, tzinfo=UTC))[0] == "bob@example.com"
    assert schedule.segment(datetime(2026, 10, 13, tzinfo=UTC))[0] == "dave@example.com"


def test_hour_lengths_are_exact_durations() -> None:
    schedule = _weekly(rotation_length="12h", start="2026-11-01")
    person, start, end = schedule.segment(datetime(2026, 11, 1, 22, 0, tzinfo=UTC))
    assert person == "carol@example.com"
    assert (end - start).total_seconds() == 12 * 3600


def test_an_override_wins_and_cuts_the_regular_shift() -> None:
    schedule = _weekly(
        overrides=[{"person": "erin@example.com", "start": "2026-10-28T18:00",
                    "end": "2026-10-29T09:00"}]
    )  # fmt: skip
    at = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
    (now, _, now_end), (after, after_start, after_end) = schedule.status(at)
    assert now == "carol@example.com"
    assert now_end == datetime(2026, 10, 28, 18, 0, tzinfo=LONDON)
    assert after == "erin@example.com"
    assert (after_start, after_end) == (now_end, datetime(2026, 10, 29, 9, 0, tzinfo=LONDON))
    back = schedule.segment(after_end)
    assert back[0] == "carol@example.com" and back[1] == after_end


def test_override_times_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        Override(
            person="x@example.com",
            start=datetime(2026, 1, 2, 9, 0),
            end=datetime(2026, 1, 1, 9, 0),
        )


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rotations.yaml"
    path.write_text(text)
    return path


def test_provider_answers_now_and_next_and_pages_by_dm(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "rotations:\n  Payments:\n    participants: [bob@example.com, U0CAROL]\n"
        "    rotation_length: 1d\n    handoff_time: '09:00'\n    time_zone: UTC\n"
        "    start: 2026-11-01\n",
    )
    provider = RotationProvider(path)
    status = provider.on_call(
        OnCallTarget("rotation", "payments"), at=datetime(2026, 11, 2, 10, tzinfo=UTC)
    )
    assert status.current[0].person.slack_user_id == "U0CAROL"
    assert status.current[0].end == datetime(2026, 11, 3, 9, tzinfo=UTC)
    assert status.next[0].person.email == "bob@example.com"
    result = provider.page(
        PageRequest(OnCallTarget("rotation", "payments"), "t", "d", "k", None, "payments-api")
    )
    assert len(result.notify) == 1
    with pytest.raises(ProviderNotFound):
        provider.on_call(OnCallTarget("rotation", "search"), at=datetime.now(UTC))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("rotations: [oops", "not valid YAML"),
        ("rotations:\n  a: {participants: [], start: 2026-11-01}\n", "participants"),
        ("rotations:\n  a: {participants: [x], start: 2026-11-01, rotation_length: 3m}\n",
         "rotation_length"),
        ("rotations:\n  a: {participants: [x], start: 2026-11-01, time_zone: Mars/Base}\n",
         "time_zone: invalid timezone: Mars/Base"),
    ],
)  # fmt: skip
def test_a_broken_file_makes_lookups_unavailable_with_the_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    provider = RotationProvider(_write(tmp_path, text))
    with pytest.raises(ProviderUnavailable, match=reason):
        provider.on_call(OnCallTarget("rotation", "a"), at=datetime.now(UTC))


def test_the_file_is_reread_when_it_changes(tmp_path: Path) -> None:
    path = _write(tmp_path, "rotations:\n  a: {participants: [x@example.com], start: 2026-11-01}\n")
    provider = RotationProvider(path)
    at = datetime(2026, 11, 5, tzinfo=UTC)
    assert provider.on_call(OnCallTarget("rotation", "a"), at=at).current[0].person.name == (
        "x@example.com"
    )
    path.write_text("rotations:\n  a: {participants: [y@example.com], start: 2026-11-01}\n")
    os.utime(path, (1_900_000_000, 1_900_000_000))
    assert provider.on_call(OnCallTarget("rotation", "a"), at=at).current[0].person.name == (
        "y@example.com"
    )


def test_rotation_defaults() -> None:
    rotation = Rotation(participants=["a"], start=date(2026, 1, 1))
    assert (rotation.rotation_length, rotation.handoff_time) == ("7d", time(9, 0))


def test_a_rotation_of_one_hands_over_to_the_same_person_at_the_next_shift() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from integrations.rotation import RotationSchedule, load_rotations

    rotations = load_rotations(
        "rotations:\n  search:\n    participants: [dave@example.com]\n"
        "    rotation_length: 1w\n    handoff_time: '10:00'\n    time_zone: UTC\n"
        "    start: 2026-11-02\n"
    )
    schedule = RotationSchedule("search", rotations.rotations["search"])
    current, following = schedule.status(datetime(2026, 11, 26, 12, tzinfo=ZoneInfo("UTC")))
    assert current[0] == following[0] == "dave@example.com"
    assert following[1] == current[2]  # the very next shift, not one weeks later
