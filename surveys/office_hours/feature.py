"""Office hours as a Feature: `/platform office-hours`, reminders, questions, follow-ups.

`build_graph` wires the feature's services from plain values (its tests call it directly);
`OfficeHoursFeature.build` does that on the core and returns what the runtime registers.
The leader runs one task per schedule at its cron time (so `/platform jobs` shows when each
session starts next) and a minute sweep for reminders missed while no leader was up; both
call the same idempotent `tick`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.core.db import SessionFactory
from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.jobs import JobQueue
from bot.core.router import Subcommand
from integrations.protocols import Messenger
from surveys.config import SurveysSection
from surveys.delivery import DmOutbox
from surveys.office_hours.handlers import OfficeHoursHandlers
from surveys.office_hours.ids import RATE_PATTERN, ActionId, CallbackId, JobKind
from surveys.office_hours.jobs import OfficeHoursFollowUp
from surveys.office_hours.service.dashboard import OfficeHoursDashboard
from surveys.office_hours.service.follow_ups import FollowUpService
from surveys.office_hours.service.sessions import OfficeHoursService
from surveys.office_hours.service.types import Schedules
from surveys.office_hours.views import OfficeHoursMessageBuilder
from surveys.sections import MIGRATIONS, SURVEYS_SECTION, Timetable, tick_tasks


@dataclass(frozen=True)
class OfficeHoursServices:
    """The feature's services, wired together."""

    sessions: OfficeHoursService
    follow_ups: FollowUpService

    def tick(self) -> None:
        """The leader's sweep: sessions, reminders and follow-ups that are due."""
        self.sessions.tick()


def build_graph(
    config: SurveysSection,
    *,
    sessions: SessionFactory,
    messenger: Messenger,
    jobs: JobQueue,
    clock: Callable[[], datetime],
    resolve_user: Callable[[str], str | None],
) -> OfficeHoursServices:
    """The office-hours services; `messenger` must retry nothing (the outbox paces itself)."""
    schedules = Schedules(config.office_hours)
    messages = OfficeHoursMessageBuilder()
    outbox = DmOutbox.paced(messenger, config.delivery, sessions)
    return OfficeHoursServices(
        sessions=OfficeHoursService(
            sessions=sessions,
            schedules=schedules,
            missed_run_grace=config.missed_run_grace,
            messenger=messenger,
            jobs=jobs,
            messages=messages,
            clock=clock,
            resolve_user=resolve_user,
        ),
        follow_ups=FollowUpService(
            sessions=sessions, schedules=schedules, outbox=outbox, messages=messages, clock=clock
        ),
    )


@dataclass(frozen=True)
class OfficeHoursFeature:
    name: str = "office-hours"
    sections: Sequence[ConfigSection] = (SURVEYS_SECTION,)
    models: str | None = "surveys.office_hours.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[OfficeHoursServices]:
        section = core.section(SURVEYS_SECTION.key, SurveysSection)
        identity = core.identity

        def resolve(entry: str) -> str | None:
            return identity.user_for_email(entry) if "@" in entry else entry

        services = build_graph(
            section,
            sessions=core.sessions,
            messenger=core.paced_messenger,
            jobs=core.jobs,
            clock=core.clock,
            resolve_user=resolve,
        )
        handlers = OfficeHoursHandlers(sessions=services.sessions, follow_ups=services.follow_ups)
        action, view = ListenerKind.ACTION, ListenerKind.VIEW
        return Parts(
            api=services,
            dashboard=OfficeHoursDashboard(sessions=core.sessions, clock=core.clock),
            subcommands=[
                Subcommand(
                    name="office-hours",
                    summary="The next office hours: when, who hosts, and the question queue.",
                    usage="/platform office-hours [NAME]",
                    example="/platform office-hours",
                    action="office-hours",
                    handler=handlers.handle_office_hours,
                    aliases=("oh",),
                )
            ],
            listeners=[
                Listener(action, ActionId.ASK, handlers.handle_ask),
                Listener(action, ActionId.ATTEND, handlers.handle_attend),
                Listener(action, RATE_PATTERN, handlers.handle_rate),
                Listener(view, CallbackId.QUESTION, handlers.handle_question),
            ],
            job_handlers={JobKind.FOLLOW_UP: OfficeHoursFollowUp(services.follow_ups)},
            tasks=tick_tasks(
                sweep_id="office-hours-sweep",
                sweep="Office-hours sessions, reminders and follow-ups that are due",
                tick=services.tick,
                timetables=[
                    Timetable(
                        f"office-hours:{o.name}",
                        o.schedule,
                        o.timezone,
                        f"Office hours {o.name}: session starts",
                    )
                    for o in section.office_hours
                ],
            ),
        )
