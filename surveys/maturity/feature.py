"""The maturity self-assessment as a Feature: `/platform maturity`, the DMs, the modal, jobs.

Rounds go to the leads of each assessed team (the core config's `teams.NAME.leads`). The
feature reads its own `maturity:` section and the survey family's `surveys:` section for
the delivery pace, working hours, the admin channel and the missed-run grace. The leader
runs the schedule at its cron time and a minute sweep (open a due round, plan reminders,
tell admins when a round closed), all through the same idempotent `MaturityServices.tick`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.core.audit import AuditLog
from bot.core.config import TeamConfig
from bot.core.db import SessionFactory
from bot.core.errors import ConfigProblem
from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.identity import IdentityService
from bot.core.jobs import JobQueue
from bot.core.router import Subcommand
from integrations.protocols import ChartRenderer, Messenger
from surveys.config import SurveysSection
from surveys.delivery import DmOutbox
from surveys.maturity.config import MaturitySection
from surveys.maturity.handlers import USAGE, CommandHandlers, SurveyHandlers
from surveys.maturity.ids import ActionId, CallbackId, JobKind
from surveys.maturity.jobs import MaturityFanOut
from surveys.maturity.service.answers import AnswerService
from surveys.maturity.service.fanout import FanOutService
from surveys.maturity.service.results import ResultsService
from surveys.maturity.service.rounds import RoundService
from surveys.maturity.views import MaturityMessageBuilder
from surveys.sections import SURVEYS_SECTION, Timetable, tick_tasks

ChartsFactory = Callable[[SurveysSection, Core], ChartRenderer]
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MATURITY_SECTION = ConfigSection("maturity", MaturitySection)


@dataclass(frozen=True)
class MaturityServices:
    rounds: RoundService
    fanout: FanOutService
    answers: AnswerService
    results: ResultsService

    def tick(self) -> None:
        """The leader's sweep: open a due round, plan due reminders, notice closed rounds."""
        self.rounds.tick()
        self.fanout.plan_reminders()
        self.fanout.notice_closed()


def assessed_teams(config: MaturitySection, teams: Mapping[str, TeamConfig]) -> dict[str, str]:
    """The teams a round asks, key → display name; `ConfigProblem` for a team not configured."""
    if config.teams is None:
        return {key: team.name or key for key, team in teams.items() if team.leads}
    unknown = [key for key in config.teams if key not in teams]
    if unknown:
        raise ConfigProblem(
            ("maturity", "teams"),
            f"{', '.join(unknown)}: not a team of the `teams:` section",
        )
    return {key: teams[key].name or key for key in config.teams}


def build_graph(
    config: MaturitySection,
    surveys: SurveysSection,
    *,
    teams: Mapping[str, TeamConfig],
    sessions: SessionFactory,
    messenger: Messenger,
    paced_messenger: Messenger,
    identity: IdentityService,
    jobs: JobQueue,
    audit: AuditLog,
    charts: ChartRenderer,
    clock: Callable[[], datetime],
) -> MaturityServices:
    """The maturity services; `paced_messenger` must retry nothing (the outbox paces itself)."""
    asked = assessed_teams(config, teams)
    names = {key: team.name or key for key, team in teams.items()}
    messages = MaturityMessageBuilder()
    return MaturityServices(
        rounds=RoundService(
            sessions=sessions,
            config=config,
            teams=asked,
            missed_run_grace=surveys.missed_run_grace,
            jobs=jobs,
            audit=audit,
            clock=clock,
        ),
        fanout=FanOutService(
            sessions=sessions,
            timezone=config.timezone,
            hours=surveys.delivery.working_hours,
            admin_channel=surveys.admin_channel,
            team_names=names,
            identity=identity,
            outbox=DmOutbox.paced(paced_messenger, surveys.delivery, sessions),
            messenger=messenger,
            jobs=jobs,
            messages=messages,
            clock=clock,
        ),
        answers=AnswerService(
            sessions=sessions, team_names=names, messenger=messenger, messages=messages, clock=clock
        ),
        results=ResultsService(
            sessions=sessions,
            team_names=names,
            trend_rounds=config.trend_rounds,
            charts=charts,
            clock=clock,
        ),
    )


@dataclass(frozen=True)
class MaturityFeature:
    charts: ChartsFactory
    name: str = "maturity"
    sections: Sequence[ConfigSection] = (SURVEYS_SECTION, MATURITY_SECTION)
    models: str | None = "surveys.maturity.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[MaturityServices]:
        config = core.section(MATURITY_SECTION.key, MaturitySection)
        surveys = core.section(SURVEYS_SECTION.key, SurveysSection)
        maturity = build_graph(
            config,
            surveys,
            teams=core.config.teams,
            sessions=core.sessions,
            messenger=core.messenger,
            paced_messenger=core.paced_messenger,
            identity=core.identity,
            jobs=core.jobs,
            audit=core.audit,
            charts=self.charts(surveys, core),
            clock=core.clock,
        )
        commands = CommandHandlers(
            rounds=maturity.rounds,
            results=maturity.results,
            configured=config.dimensions is not None,
            policy=core.policy,
            messenger=core.messenger,
        )
        surveys_listeners = SurveyHandlers(answers=maturity.answers)
        timetables = (
            [Timetable("maturity", config.schedule, config.timezone, "Maturity: open a round")]
            if config.schedule is not None
            else []
        )
        return Parts(
            api=maturity,
            subcommands=[
                Subcommand(
                    name="maturity",
                    summary="Platform maturity levels of your team or the platform; admins "
                    "start a self-assessment round.",
                    usage=USAGE,
                    example="/platform maturity payments",
                    action="maturity",
                    handler=commands.handle_maturity,
                    mutating=True,
                )
            ],
            listeners=[
                Listener(ListenerKind.ACTION, ActionId.TAKE, surveys_listeners.handle_take),
                Listener(ListenerKind.VIEW, CallbackId.ANSWER, surveys_listeners.handle_answer),
            ],
            job_handlers={JobKind.FANOUT: MaturityFanOut(maturity.fanout)},
            tasks=tick_tasks(
                sweep_id="maturity-sweep",
                sweep="Maturity rounds, reminders and close notices that are due",
                tick=maturity.tick,
                timetables=timetables,
                sweep_always=config.dimensions is not None,
            ),
        )
