"""`/platform docs` as one Feature: config, tables, routes, the refresh job and schedule.

`build_graph` wires the services from plain values (tests and benchmarks call it directly);
`DocsFeature.build` does that on the core. The full-text engine follows the app database:
FTS5 on SQLite, tsvector on PostgreSQL. The index is refreshed once at start (a job, so
replicas starting together share it), then on the leader's schedule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from bot.core.audit import AuditLog
from bot.core.db import SessionFactory
from bot.core.errors import ConfigProblem
from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.jobs import JobQueue
from bot.core.router import Subcommand
from bot.core.scheduler import ScheduledTask
from commands.docs import views
from commands.docs.config import DocsSection
from commands.docs.handlers import DOCS_USAGE, DocsHandlers
from commands.docs.ids import ActionId, JobKind, PolicyAction
from commands.docs.jobs import RefreshJob
from commands.docs.service.fts import FullText, PostgresFullText, SqliteFullText
from commands.docs.service.index import DocsIndex
from commands.docs.service.votes import DocsVotes
from integrations.protocols import CatalogProvider

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ACTION_WORDS: dict[str, str] = {
    PolicyAction.SEARCH: "search the docs",
    PolicyAction.REFRESH: "refresh the docs index",
    PolicyAction.STATS: "see docs statistics",
}


@dataclass
class Docs:
    index: DocsIndex
    votes: DocsVotes


def fulltext_for(postgres: bool, section: DocsSection) -> FullText:
    return PostgresFullText(section.language) if postgres else SqliteFullText()


def build_graph(
    *,
    section: DocsSection,
    base: Path,
    sessions: SessionFactory,
    postgres: bool,
    audit: AuditLog,
    clock: Callable[[], datetime],
    catalog: CatalogProvider | None = None,
) -> Docs:
    index = DocsIndex(
        section=section,
        base=base,
        sessions=sessions,
        fulltext=fulltext_for(postgres, section),
        clock=clock,
        catalog=catalog,
    )
    return Docs(index=index, votes=DocsVotes(sessions=sessions, audit=audit, clock=clock))


def _check_language(sessions: SessionFactory, language: str) -> None:
    """Fail at start, naming the key, rather than at every search."""
    with sessions() as session:
        known = session.scalar(
            text("SELECT count(*) FROM pg_ts_config WHERE cfgname = :name"), {"name": language}
        )
    if not known:
        raise ConfigProblem(
            ("docs", "language"),
            f"PostgreSQL has no text-search configuration {language!r} (try english or simple)",
        )


def _start_refresh(jobs: JobQueue, section: DocsSection, clock: Callable[[], datetime]) -> None:
    # Replicas starting within the same hour on the same trees share one refresh job.
    digest = hashlib.sha256(section.model_dump_json().encode()).hexdigest()[:16]
    key = f"docs.refresh:start:{digest}:{clock():%Y%m%d%H}"
    jobs.enqueue(kind=JobKind.REFRESH, payload={}, idempotency_key=key)


CatalogFactory = Callable[[Path], CatalogProvider]
"""The catalog-info.yaml directory → a provider of its entities (built by the runtime)."""


@dataclass(frozen=True)
class DocsFeature:
    """Docs search; off while `docs.trees` is empty and no `docs.catalog` is set."""

    catalog: CatalogFactory | None = None
    name: str = "docs"
    sections: Sequence[ConfigSection] = (ConfigSection("docs", DocsSection),)
    models: str | None = "commands.docs.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[Docs | None]:
        section = core.section("docs", DocsSection)
        if not section.trees and section.catalog is None:
            return Parts(api=None)
        if core.postgres:
            _check_language(core.sessions, section.language)
        core.policy.describe_actions(ACTION_WORDS)
        graph = build_graph(
            section=section,
            base=core.config_dir,
            sessions=core.sessions,
            postgres=core.postgres,
            audit=core.audit,
            clock=core.clock,
            catalog=self._catalog(section, core),
        )
        sites = [(t.name, t.site_url) for t in section.trees if t.site_url]
        if not sites and core.config.platform.docs_url:
            sites = [("docs", core.config.platform.docs_url)]
        handlers = DocsHandlers(
            index=graph.index,
            votes=graph.votes,
            policy=core.policy,
            jobs=core.jobs,
            audit=core.audit,
            sites=sites,
        )
        refresh = RefreshJob(
            index=graph.index, messenger=core.messenger, report=views.build_refresh_result
        )
        return Parts(
            api=graph,
            subcommands=[
                Subcommand(
                    name="docs",
                    summary="Search the platform docs: the 5 best pages, with links.",
                    usage=DOCS_USAGE,
                    example="/platform docs new database",
                    action=PolicyAction.SEARCH,
                    handler=handlers.handle_docs,
                    aliases=("doc",),
                )
            ],
            listeners=[
                Listener(ListenerKind.ACTION, ActionId.HELPFUL, handlers.handle_vote),
                Listener(ListenerKind.ACTION, ActionId.NOT_HELPFUL, handlers.handle_vote),
            ],
            job_handlers={JobKind.REFRESH: refresh},
            tasks=[
                ScheduledTask(
                    id="docs-refresh",
                    func=graph.index.refresh_quietly,
                    trigger=IntervalTrigger(minutes=section.refresh_minutes),
                    description="Re-index changed documentation pages",
                )
            ],
            start=[lambda: _start_refresh(core.jobs, section, core.clock)],
        )

    def _catalog(self, section: DocsSection, core: Core) -> CatalogProvider | None:
        if section.catalog is None or self.catalog is None:
            return None
        return self.catalog((core.config_dir / section.catalog.path).resolve())
