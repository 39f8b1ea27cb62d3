"""What the survey features share: the `surveys` section, the migrations, the schedule tasks.

NPS, CSAT and office hours are three features of one family: they read one `surveys:`
section and their tables came in one migration branch, so each names these same objects
and the runtime takes each once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.feature import ConfigSection
from bot.core.scheduler import ScheduledTask
from surveys.config import SurveysSection

SURVEYS_SECTION = ConfigSection("surveys", SurveysSection)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Timetable:
    """A schedule of one survey feature, as the leader's scheduler runs it."""

    id: str
    crontab: str
    timezone: ZoneInfo
    description: str


def tick_tasks(
    *,
    sweep_id: str,
    sweep: str,
    tick: Callable[[], None],
    timetables: Sequence[Timetable],
    sweep_always: bool = False,
) -> list[ScheduledTask]:
    """One task per timetable at its cron time (so `/platform jobs` shows when each fires
    next) and a minute sweep for what was missed while no leader was up. All call the same
    idempotent `tick`; a feature with no timetables schedules nothing, unless `sweep_always`
    (rounds started by hand still need their reminders)."""
    if not timetables and not sweep_always:
        return []
    sweeping = ScheduledTask(
        id=sweep_id, func=tick, trigger=IntervalTrigger(minutes=1), description=sweep
    )
    return [
        sweeping,
        *(
            ScheduledTask(
                id=table.id,
                func=tick,
                trigger=CronTrigger.from_crontab(table.crontab, timezone=table.timezone),
                description=table.description,
            )
            for table in timetables
        ),
    ]
