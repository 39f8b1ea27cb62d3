"""The window rule every on-call provider's `shifts_for` answers by (one place for it).

A shift is in [since, until) when it starts before `until` and ends after `since`: a shift
that began before `since` and is still running is in, one starting exactly at `until` is
not. A shift with no start (permanent on-call) starts "always"; one with no end never ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from integrations.protocols import OnCallShift

SHIFTS_MAX = 200
"""More shifts than two weeks of even hourly rotations give one person: the rest are cut."""


def overlaps(shift: OnCallShift, since: datetime, until: datetime) -> bool:
    starts_in_time = shift.start is None or shift.start < until
    return starts_in_time and (shift.end is None or shift.end > since)


def within(shifts: Iterable[OnCallShift], since: datetime, until: datetime) -> list[OnCallShift]:
    """The shifts in the window, each once (a schedule reached through two escalation levels
    or policies is one shift to its person), sorted by start (permanent ones first)."""
    seen: set[tuple[str | None, datetime | None, datetime | None]] = set()
    found: list[OnCallShift] = []
    for shift in shifts:
        key = (shift.schedule, shift.start, shift.end)
        if key in seen or not overlaps(shift, since, until):
            continue
        seen.add(key)
        found.append(shift)
    found.sort(key=lambda s: (s.start is not None, s.start or since, s.schedule or ""))
    return found[:SHIFTS_MAX]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from a provider's answer (UTC when it has no offset), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso_utc(moment: datetime) -> str:
    """`moment` as providers take it: ISO 8601 in UTC, to the second, with a Z."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
