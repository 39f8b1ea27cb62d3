"""`/platform stats [PERIOD]` as a Feature: adoption and outcome figures in chat, a chart in
the admin's DM, and the same figures as Prometheus gauges refreshed by the leader.

It has no tables: it reads core's `command_usage` and `audit_record` (see service.py), and the
surveys' NPS and CSAT trend through `Core.feedback_trends`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from bot.core.feature import ConfigSection, Core, Parts
from bot.core.router import Subcommand
from bot.core.scheduler import ScheduledTask
from commands.resources.config import Driver, EngineKind
from commands.stats.charts import StatsCharts
from commands.stats.config import StatsSection
from commands.stats.gauges import StatsGauges
from commands.stats.handlers import StatsHandlers
from commands.stats.service import StatsService
from commands.stats.views import USAGE
from integrations.protocols import ChartRenderer

SECTION = ConfigSection("stats", StatsSection)
ChartsFactory = Callable[[StatsSection, Core], ChartRenderer]


@dataclass(frozen=True)
class Stats:
    service: StatsService
    gauges: StatsGauges
    handlers: StatsHandlers


@dataclass(frozen=True)
class StatsFeature:
    charts: ChartsFactory
    name: str = "stats"
    sections: Sequence[ConfigSection] = field(default=(SECTION,))
    models: str | None = None
    migrations: Path | None = None

    def build(self, core: Core) -> Parts[Stats]:
        section = core.section(SECTION.key, StatsSection)
        service = StatsService(
            sessions=core.sessions,
            clock=core.clock,
            min_group_size=section.min_group_size,
            teams=core.config.teams.keys(),
            trends=core.feedback_trends,
        )
        gauges = StatsGauges(
            stats=service,
            subcommands=core.subcommand_names,
            engines=[engine.value for engine in EngineKind],
            drivers=[driver.value for driver in Driver],
        )
        handlers = StatsHandlers(
            stats=service,
            policy=core.policy,
            charts=StatsCharts(self.charts(section, core)),
            messenger=core.messenger,
        )
        return Parts(
            api=Stats(service=service, gauges=gauges, handlers=handlers),
            subcommands=[
                Subcommand(
                    name="stats",
                    summary="How the platform is used: active people, commands, requests, "
                    "outcomes.",
                    usage=USAGE,
                    example="/platform stats 7d",
                    action="stats",
                    handler=handlers.handle_stats,
                )
            ],
            tasks=[
                ScheduledTask(
                    id="stats-gauges",
                    func=gauges.refresh,
                    trigger=IntervalTrigger(minutes=section.refresh_minutes),
                    description="Refresh the stats gauges for Prometheus",
                )
            ],
        )
