"""Assembles the survey features: their services, job handlers and scheduled tasks.

`scheduled_tasks` lists what the leader runs: one task per campaign and per office-hours
schedule at its own cron time (so `/platform jobs` shows when each fires next), plus a
minute sweep that catches reminders, snoozes and runs missed while no leader was up.
Every task calls the same idempotent `tick`, so a run seen twice does nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.audit import AuditLog
from bot.db import SessionFactory
from bot.identity import IdentityService
from bot.jobs import JobQueue, JobRunner
from bot.scheduler import ScheduledTask
from integrations.protocols import ChartRenderer, Messenger, WorkspaceRoster
from surveys.config import SurveysSection
from surveys.csat.service import CsatService
from surveys.csat.views import CsatMessageBuilder
from surveys.nps.service import FANOUT_JOB, NpsFanOut, NpsService
from surveys.nps.views import NpsMessageBuilder
from surveys.office_hours.service import FOLLOW_UP_JOB, OfficeHoursFollowUp, OfficeHoursService
from surveys.office_hours.views import OfficeHoursMessageBuilder


def scheduled_tasks(
    config: SurveysSection, *, nps: NpsService, office_hours: OfficeHoursService
) -> list[ScheduledTask]:
    if not config.campaigns and not config.office_hours:
        return []

    def sweep() -> None:
        nps.tick()
        office_hours.tick()

    tasks = [
        ScheduledTask(
            id="surveys-sweep",
            func=sweep,
            trigger=IntervalTrigger(minutes=1),
            description="Survey rounds, reminders and office-hours reminders that are due",
        )
    ]
    for campaign in config.campaigns:
        tasks.append(
            ScheduledTask(
                id=f"nps:{campaign.name}",
                func=nps.tick,
                trigger=CronTrigger.from_crontab(
                    campaign.schedule, timezone=ZoneInfo(campaign.timezone)
                ),
                description=f"NPS campaign {campaign.name}: open a round",
            )
        )
    for schedule in config.office_hours:
        tasks.append(
            ScheduledTask(
                id=f"office-hours:{schedule.name}",
                func=office_hours.tick,
                trigger=CronTrigger.from_crontab(
                    schedule.schedule, timezone=ZoneInfo(schedule.timezone)
                ),
                description=f"Office hours {schedule.name}: session starts",
            )
        )
    return tasks


@dataclass(frozen=True)
class SurveyServices:
    nps: NpsService
    csat: CsatService
    office_hours: OfficeHoursService


def build_surveys(
    config: SurveysSection,
    *,
    sessions: SessionFactory,
    postgres: bool,
    roster: WorkspaceRoster,
    messenger: Messenger,
    charts: ChartRenderer,
    identity: IdentityService,
    jobs: JobQueue,
    audit: AuditLog,
    clock: Callable[[], datetime],
) -> SurveyServices:
    """The survey services on the adapters the composition root built."""
    nps = NpsService(
        sessions=sessions,
        config=config,
        roster=roster,
        messenger=messenger,
        identity=identity,
        jobs=jobs,
        audit=audit,
        messages=NpsMessageBuilder(),
        charts=charts,
        clock=clock,
        postgres=postgres,
    )
    csat = CsatService(
        sessions=sessions,
        config=config.csat,
        messenger=messenger,
        messages=CsatMessageBuilder(),
        clock=clock,
    )

    def resolve(entry: str) -> str | None:
        return identity.user_for_email(entry) if "@" in entry else entry

    office_hours = OfficeHoursService(
        sessions=sessions,
        config=config,
        messenger=messenger,
        jobs=jobs,
        messages=OfficeHoursMessageBuilder(),
        clock=clock,
        postgres=postgres,
        resolve_user=resolve,
    )
    return SurveyServices(nps=nps, csat=csat, office_hours=office_hours)


def register_job_handlers(runner: JobRunner, services: SurveyServices) -> None:
    runner.register(FANOUT_JOB, NpsFanOut(services.nps))
    runner.register(FOLLOW_UP_JOB, OfficeHoursFollowUp(services.office_hours))
