"""NPS campaigns as a Feature: `/platform nps`, the survey DMs and modal, the fan-out job.

`build_graph` wires the feature's services from plain values (its tests call it directly);
`NpsFeature.build` does that on the core and returns what the runtime registers. The leader
runs one task per campaign at its cron time (so `/platform jobs` shows when each fires next)
and a minute sweep for rounds, reminders and snoozes missed while no leader was up; both call
the same idempotent `NpsServices.tick`. Ratings of actions (CSAT) are shown beside the results
through `Core.feedback`, so this feature does not depend on the CSAT feature; it offers NPS
per round to `/platform stats` through `Core.feedback_trends`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.core.audit import AuditLog
from bot.core.db import SessionFactory
from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.identity import IdentityService
from bot.core.jobs import JobQueue
from bot.core.router import Subcommand
from integrations.protocols import ChartRenderer, Messenger, WorkspaceRoster
from surveys.config import SurveysSection
from surveys.delivery import DmOutbox
from surveys.nps.handlers import USAGE, CommandHandlers, SurveyHandlers
from surveys.nps.ids import ActionId, CallbackId, JobKind
from surveys.nps.jobs import NpsFanOut
from surveys.nps.service.answers import AnswerService
from surveys.nps.service.campaigns import CampaignService
from surveys.nps.service.dashboard import NpsDashboard
from surveys.nps.service.fanout import FanOutService
from surveys.nps.service.results import ResultsService
from surveys.nps.service.trend import NpsTrend
from surveys.nps.service.types import CampaignCatalog
from surveys.nps.views import NpsMessageBuilder
from surveys.sections import MIGRATIONS, SURVEYS_SECTION, Timetable, tick_tasks

ChartsFactory = Callable[[SurveysSection, Core], ChartRenderer]


@dataclass(frozen=True)
class NpsServices:
    """The feature's services, wired together."""

    campaigns: CampaignService
    fanout: FanOutService
    answers: AnswerService
    results: ResultsService
    trend: NpsTrend
    outbox: DmOutbox

    def tick(self) -> None:
        """The leader's sweep: open the rounds that are due, then plan due reminders."""
        self.campaigns.tick()
        self.fanout.plan_reminders()


def build_graph(
    config: SurveysSection,
    *,
    sessions: SessionFactory,
    roster: WorkspaceRoster,
    messenger: Messenger,
    identity: IdentityService,
    jobs: JobQueue,
    audit: AuditLog,
    charts: ChartRenderer,
    clock: Callable[[], datetime],
) -> NpsServices:
    """The NPS services; `messenger` must retry nothing (the outbox paces itself)."""
    catalog = CampaignCatalog(config.campaigns)
    messages = NpsMessageBuilder()
    outbox = DmOutbox.paced(messenger, config.delivery, sessions)
    return NpsServices(
        campaigns=CampaignService(
            sessions=sessions,
            catalog=catalog,
            missed_run_grace=config.missed_run_grace,
            jobs=jobs,
            audit=audit,
            clock=clock,
        ),
        fanout=FanOutService(
            sessions=sessions,
            config=config,
            catalog=catalog,
            roster=roster,
            outbox=outbox,
            messenger=messenger,
            jobs=jobs,
            messages=messages,
            clock=clock,
        ),
        answers=AnswerService(
            sessions=sessions,
            identity=identity,
            messenger=messenger,
            messages=messages,
            clock=clock,
        ),
        results=ResultsService(
            sessions=sessions, catalog=catalog, charts=charts, audit=audit, clock=clock
        ),
        trend=NpsTrend(sessions=sessions, catalog=catalog),
        outbox=outbox,
    )


@dataclass(frozen=True)
class NpsFeature:
    charts: ChartsFactory
    name: str = "nps"
    sections: Sequence[ConfigSection] = (SURVEYS_SECTION,)
    models: str | None = "surveys.nps.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[NpsServices]:
        section = core.section(SURVEYS_SECTION.key, SurveysSection)
        nps = build_graph(
            section,
            sessions=core.sessions,
            roster=core.roster,
            messenger=core.paced_messenger,
            identity=core.identity,
            jobs=core.jobs,
            audit=core.audit,
            charts=self.charts(section, core),
            clock=core.clock,
        )
        commands = CommandHandlers(
            campaigns=nps.campaigns,
            results=nps.results,
            feedback=core.feedback,
            policy=core.policy,
            messenger=core.messenger,
        )
        surveys = SurveyHandlers(
            answers=nps.answers, fanout=nps.fanout, changed=core.dashboard.changed
        )
        action, view = ListenerKind.ACTION, ListenerKind.VIEW
        return Parts(
            api=nps,
            dashboard=NpsDashboard(sessions=core.sessions, clock=core.clock),
            subcommands=[
                Subcommand(
                    name="nps",
                    summary="NPS results; admins also list, pause, resume, run and export "
                    "campaigns.",
                    usage=USAGE,
                    example="/platform nps quarterly",
                    action="nps.results",
                    handler=commands.handle_nps,
                    mutating=True,
                )
            ],
            listeners=[
                Listener(action, ActionId.TAKE, surveys.handle_take),
                Listener(action, ActionId.SNOOZE, surveys.handle_snooze),
                Listener(view, CallbackId.ANSWER, surveys.handle_answer),
            ],
            job_handlers={JobKind.FANOUT: NpsFanOut(nps.fanout)},
            nps_rounds=nps.trend,
            tasks=tick_tasks(
                sweep_id="nps-sweep",
                sweep="NPS rounds, reminders and snoozed invitations that are due",
                tick=nps.tick,
                timetables=[
                    Timetable(
                        f"nps:{c.name}",
                        c.schedule,
                        c.timezone,
                        f"NPS campaign {c.name}: open a round",
                    )
                    for c in section.campaigns
                ],
            ),
        )
