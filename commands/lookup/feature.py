"""Ownership, on-call and service lookups as one Feature: `/platform owner|oncall|service|catalog`.

The catalog and on-call providers are adapters the runtime's feature list passes in; their
paths and clients come from the `catalog` and `oncall` sections. The index is loaded (and
refreshed when empty or old) in the background when the process starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.router import Subcommand
from bot.core.scheduler import ScheduledTask
from commands.lookup.config import CatalogSection, OnCallKind, OnCallSection
from commands.lookup.handlers import LookupHandlers
from commands.lookup.ids import ActionId, CallbackId, JobKind
from commands.lookup.jobs import PageJob, RefreshJob
from commands.lookup.service.catalog_index import CatalogIndex
from commands.lookup.service.dashboard import OnCallShiftsDashboard
from commands.lookup.service.lookups import LookupService
from commands.lookup.service.oncall import OnCallDirectory
from commands.lookup.service.search_query import FILTER_USAGE
from commands.lookup.views.refresh import build_refresh_result
from integrations.protocols import CatalogProvider, OnCallProvider

CatalogFactory = Callable[[CatalogSection, Core], CatalogProvider]
OnCallFactory = Callable[[OnCallSection, Core], OnCallProvider]
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class LookupFeature:
    catalog: CatalogFactory
    oncall: OnCallFactory
    name: str = "lookup"
    sections: Sequence[ConfigSection] = (
        ConfigSection("catalog", CatalogSection),
        ConfigSection("oncall", OnCallSection),
    )
    models: str | None = "commands.lookup.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[LookupService]:
        catalog = core.section("catalog", CatalogSection)
        oncall = core.section("oncall", OnCallSection)
        provider = self.oncall(oncall, core)
        service = LookupService(
            index=CatalogIndex(core.sessions, self.catalog(catalog, core)),
            oncall=OnCallDirectory(
                provider,
                cache_seconds=oncall.cache_seconds,
                local=oncall.provider is OnCallKind.ROTATION,
            ),
            identity=core.identity,
            audit=core.audit,
            team_channels={
                k: team.channel for k, team in core.config.teams.items() if team.channel
            },
            ui_url=catalog.ui_url,
            refresh_interval=timedelta(minutes=catalog.refresh_minutes),
            reload_check_seconds=catalog.reload_check_seconds,
        )
        handlers = LookupHandlers(
            service=service,
            policy=core.policy,
            identity=core.identity,
            jobs=core.jobs,
            runbooks=core.runbooks,
        )
        return Parts(
            api=service,
            subcommands=_subcommands(handlers),
            listeners=_listeners(handlers),
            job_handlers={
                JobKind.PAGE: PageJob(
                    service=service,
                    identity=core.identity,
                    messenger=core.messenger,
                    audit=core.audit,
                ),
                JobKind.REFRESH: RefreshJob(
                    service=service,
                    messenger=core.messenger,
                    report=build_refresh_result,
                ),
            },
            tasks=[
                ScheduledTask(
                    id="catalog-refresh",
                    func=service.refresh_quietly,
                    trigger=IntervalTrigger(minutes=catalog.refresh_minutes),
                    description="Refresh the local catalog index from the service catalog",
                )
            ],
            start=[service.start],
            close=[service.stop],
            catalog=service,
            dashboard=OnCallShiftsDashboard(
                provider, cache_seconds=oncall.cache_seconds, clock=core.clock
            ),
        )


def _subcommands(handlers: LookupHandlers) -> list[Subcommand]:
    return [
        Subcommand(
            name="owner",
            summary="Who owns a service: the team, its channel and its members.",
            usage="/platform owner SERVICE",
            example="/platform owner payments-api",
            action="lookup.owner",
            handler=handlers.handle_owner,
            aliases=("owns",),
        ),
        Subcommand(
            name="oncall",
            summary="Who is on call now and next for a service or a team.",
            usage="/platform oncall SERVICE-OR-TEAM",
            example="/platform oncall payments-api",
            action="lookup.oncall",
            handler=handlers.handle_oncall,
            aliases=("on-call",),
        ),
        Subcommand(
            name="service",
            summary="A service's card: owner, on-call, links, and a button to page on-call.",
            usage="/platform service NAME",
            example="/platform service payments-api",
            action="lookup.service",
            handler=handlers.handle_service,
        ),
        Subcommand(
            name="catalog",
            summary=(
                "Search the service catalog by name, title, description, tags, type and "
                "lifecycle; narrow it with `kind:api`, `type:service`, `owner:TEAM` or "
                "`lifecycle:production` (commas give several values). `catalog refresh` "
                "re-reads the catalog (admins)."
            ),
            usage=f"/platform catalog QUERY {FILTER_USAGE} | refresh",
            example="/platform catalog payments kind:api",
            action="lookup.catalog",
            handler=handlers.handle_catalog,
        ),
    ]


def _listeners(handlers: LookupHandlers) -> list[Listener]:
    action, view = ListenerKind.ACTION, ListenerKind.VIEW
    return [
        Listener(action, ActionId.PICK_ENTITY, handlers.handle_pick),
        Listener(action, ActionId.OPEN_IN_CATALOG, handlers.handle_open_in_catalog),
        Listener(action, ActionId.PAGE_ONCALL, handlers.handle_page_button),
        Listener(view, CallbackId.PAGE_REASON, handlers.handle_page_reason),
        Listener(view, CallbackId.PAGE_CONFIRM, handlers.handle_page_confirm),
    ]
