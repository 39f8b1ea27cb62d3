"""Calendar arithmetic for surveys: cron occurrences and each person's working hours.

Services compute "when" with these helpers and never touch the scheduling library itself;
APScheduler's CronTrigger is used here only as a crontab calculator.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import TypeAdapter, ValidationError

from surveys.config import WEEKDAYS, WorkingHours

_MAX_OCCURRENCES = 100_000
_ZONE = TypeAdapter(ZoneInfo)  # the same check as the config's zone fields


class Cron:
    """A crontab expression in a time zone."""

    def __init__(self, expression: str, timezone: ZoneInfo) -> None:
        self.expression = expression
        self.timezone = timezone
        self._trigger = CronTrigger.from_crontab(expression, timezone=timezone)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment`, in UTC."""
        found = self._trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
        return None if found is None else found.astimezone(UTC)

    def between(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Occurrences in (after, until], oldest first."""
        moment = after
        for _ in range(_MAX_OCCURRENCES):
            found = self.next_after(moment)
            if found is None or found > until:
                return
            yield found
            moment = found

    def latest_at_or_before(self, after: datetime, until: datetime) -> tuple[datetime | None, int]:
        """The last occurrence in (after, until] and how many earlier ones it supersedes."""
        latest: datetime | None = None
        skipped = -1
        for occurrence in self.between(after, until):
            latest = occurrence
            skipped += 1
        return latest, max(skipped, 0)


def zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    """A person's time zone as Slack reports it, or `fallback` when it is missing or unknown."""
    if not name:
        return fallback
    try:
        return _ZONE.validate_python(name)
    except ValidationError:
        return fallback


def next_working_moment(moment: datetime, tz: ZoneInfo, hours: WorkingHours) -> datetime:
    """`moment` if it falls in working hours in `tz`, else when the person's next day starts."""
    local = moment.astimezone(tz)
    for day_offset in range(8):
        day = (local + timedelta(days=day_offset)).date()
        if WEEKDAYS[day.weekday()] not in hours.days:
            continue
        start = datetime.combine(day, hours.start, tzinfo=tz)
        end = datetime.combine(day, hours.end, tzinfo=tz)
        if local < start:
            return start.astimezone(UTC)
        if local < end:
            return moment.astimezone(UTC)
    return moment.astimezone(UTC)  # unreachable with at least one working day
