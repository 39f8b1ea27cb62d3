"""The composition root: core services and features, wired together once per process.

Concrete adapters come from `bot.adapters`; everything here sees their protocols.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine

from bot.adapters import (
    build_catalog_provider,
    build_oncall_provider,
    build_provisioners,
    build_secret_store,
)
from bot.audit import AuditLog
from bot.config import PlatformConfig
from bot.db import SessionFactory, is_postgres, make_engine, make_session_factory, utcnow
from bot.idempotency import IdempotencyStore
from bot.identity import IdentityService
from bot.jobs import JobQueue, JobRunner
from bot.leader import LeaderElector
from bot.metrics import record_job_outcome
from bot.policy import Policy
from bot.scheduler import ScheduledTask, Scheduler, housekeeping_task
from bot.settings import Settings
from bot.usage import UsageLog
from commands.lookup.catalog_index import CatalogIndex
from commands.lookup.config import OnCallKind
from commands.lookup.ids import JobKind as LookupJob
from commands.lookup.jobs import PageJob, RefreshJob
from commands.lookup.oncall import OnCallDirectory
from commands.lookup.service import LookupService
from commands.new_db.feature import NewDbFeature, build_feature
from commands.new_db.ids import JobKind as NewDbJob
from commands.new_db.notifier import SlackNotifier
from integrations.charts import MatplotlibCharts
from integrations.protocols import Provisioner, SecretStore
from integrations.slack_directory import SlackDirectory
from integrations.slack_messaging import SlackMessenger, SlackRoster
from surveys.feature import SurveyServices, build_surveys, register_job_handlers, scheduled_tasks

logger = logging.getLogger(__name__)

# Every replica uses the same key for the scheduler's leader lock: "platform-bot leader".
LEADER_LOCK_KEY = 0x706C6174_6C656164
SLACK_TIMEOUT_SECONDS = 10


def build_slack_client(settings: Settings, token: str | None = None) -> WebClient:
    """A WebClient on SLACK_API_URL that retries connection errors, 429s and 5xx."""
    if token is None and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    return WebClient(
        token=token,
        base_url=settings.api_url(),
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            # Honours Retry-After; a fan-out paces itself, this only absorbs the odd 429.
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Services:
    settings: Settings
    config: PlatformConfig
    engine: Engine
    sessions: SessionFactory
    slack: WebClient
    identity: IdentityService
    policy: Policy
    audit: AuditLog
    idempotency: IdempotencyStore
    usage: UsageLog
    jobs: JobQueue
    runner: JobRunner
    scheduler: Scheduler
    tasks: list[ScheduledTask] = field(default_factory=list)
    new_db: NewDbFeature | None = None
    lookup: LookupService | None = None
    surveys: SurveyServices | None = None
    # Clients the services own (e.g. the Vault HTTP client), closed with them.
    http_clients: list[httpx.Client] = field(default_factory=list)

    def start_background(self) -> None:
        """Start the job runner (every replica) and the scheduler (on the leader only)."""
        self.runner.start()
        self.scheduler.start()
        if self.lookup is not None:
            self.lookup.start()  # loads the catalog index (and refreshes it) in the background

    def stop_background(self) -> None:
        self.scheduler.stop()
        if self.lookup is not None:
            self.lookup.stop()
        self.runner.stop(timeout=10)

    def close(self) -> None:
        self.stop_background()
        self.usage.close()
        self.engine.dispose()
        for client in self.http_clients:
            client.close()


def build_services(
    settings: Settings,
    config: PlatformConfig,
    *,
    engine: Engine | None = None,
    slack: WebClient | None = None,
    provisioners: Mapping[str, Provisioner] | None = None,
    secret_store: SecretStore | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Services:
    """Build everything; tests pass `provisioners` / `secret_store` to replace the real ones."""
    engine = engine or make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    slack = slack or build_slack_client(settings)
    jobs = JobQueue(sessions, clock=clock)
    runner = JobRunner(
        sessions,
        engine,
        workers=config.jobs.workers,
        poll_interval=config.jobs.poll_interval_seconds,
        lease_seconds=config.jobs.lease_seconds,
        max_attempts=config.jobs.max_attempts,
        on_outcome=record_job_outcome,
        wakeup=jobs.wakeup,
        clock=clock,
    )
    idempotency = IdempotencyStore(sessions)
    audit = AuditLog(sessions)
    policy = Policy(config)
    http_clients: list[httpx.Client] = []
    tasks = [housekeeping_task(jobs, config.jobs.keep_finished_days, idempotency)]
    identity = IdentityService(SlackDirectory(slack), config, sessions)
    lookup = build_lookup(
        settings,
        config,
        sessions=sessions,
        identity=identity,
        audit=audit,
        http_clients=http_clients,
    )
    runner.register(
        LookupJob.PAGE, PageJob(service=lookup, identity=identity, slack=slack, audit=audit)
    )
    runner.register(LookupJob.REFRESH, RefreshJob(service=lookup, slack=slack))
    tasks.append(
        ScheduledTask(
            id="catalog-refresh",
            func=lookup.refresh_quietly,
            trigger=IntervalTrigger(minutes=config.catalog.refresh_minutes),
            description="Refresh the local catalog index from the service catalog",
        )
    )
    # Survey DMs go through a client that retries nothing: the fan-out paces itself and must
    # see every 429, and a retried chat.postMessage could post twice.
    messaging = SlackMessenger(
        WebClient(token=slack.token, base_url=slack.base_url, timeout=SLACK_TIMEOUT_SECONDS)
    )
    surveys = build_surveys(
        config.surveys,
        sessions=sessions,
        postgres=is_postgres(engine),
        roster=SlackRoster(slack),
        messenger=messaging,
        charts=MatplotlibCharts(),
        identity=identity,
        jobs=jobs,
        audit=audit,
        clock=clock,
    )
    register_job_handlers(runner, surveys)
    tasks.extend(
        scheduled_tasks(config.surveys, nps=surveys.nps, office_hours=surveys.office_hours)
    )
    new_db = None
    if config.databases.engines:
        new_db = build_feature(
            config,
            sessions=sessions,
            policy=policy,
            audit=audit,
            jobs=jobs,
            notifier=SlackNotifier(slack),
            provisioners=build_provisioners(config.databases, http_clients)
            if provisioners is None
            else provisioners,
            secrets=build_secret_store(config.databases, http_clients)
            if secret_store is None
            else secret_store,
            feedback=surveys.csat,
            identity=identity,
        )
        runner.register(NewDbJob.PROVISION, new_db.provision_job)
        runner.register(NewDbJob.DROP, new_db.drop_job)
        runner.register(NewDbJob.HANDOFF, new_db.handoff_job)
        lifecycle = new_db.lifecycle
        tasks.append(
            ScheduledTask(
                id="new-db-sweep",
                func=lambda: logger.info("new-db sweep: %s", lifecycle.sweep()),
                trigger=IntervalTrigger(seconds=new_db.sweep_interval.total_seconds()),
                description="Expire unanswered database approvals; warn about and drop "
                "databases past their time-to-live",
            )
        )
    # Built last: the scheduler takes the complete task list.
    scheduler = Scheduler(
        engine,
        timezone=ZoneInfo(config.platform.timezone),
        tasks=tasks,
        elector=LeaderElector(engine, key=LEADER_LOCK_KEY),
    )
    return Services(
        settings=settings,
        config=config,
        engine=engine,
        sessions=sessions,
        slack=slack,
        identity=identity,
        policy=policy,
        audit=audit,
        idempotency=idempotency,
        usage=UsageLog(sessions),
        jobs=jobs,
        runner=runner,
        scheduler=scheduler,
        tasks=tasks,
        new_db=new_db,
        http_clients=http_clients,
        lookup=lookup,
        surveys=surveys,
    )


def build_lookup(
    settings: Settings,
    config: PlatformConfig,
    *,
    sessions: SessionFactory,
    identity: IdentityService,
    audit: AuditLog,
    http_clients: list[httpx.Client],
) -> LookupService:
    """The catalog and on-call lookups; provider paths are relative to the config file."""
    base = settings.platform_config.resolve().parent
    oncall = config.oncall
    return LookupService(
        index=CatalogIndex(
            sessions,
            build_catalog_provider(config.catalog, base=base, http_clients=http_clients),
        ),
        oncall=OnCallDirectory(
            build_oncall_provider(oncall, base=base, http_clients=http_clients),
            cache_seconds=oncall.cache_seconds,
            local=oncall.provider is OnCallKind.ROTATION,
        ),
        identity=identity,
        audit=audit,
        team_channels={key: team.channel for key, team in config.teams.items() if team.channel},
        ui_url=config.catalog.ui_url,
        refresh_interval=timedelta(minutes=config.catalog.refresh_minutes),
        reload_check_seconds=config.catalog.reload_check_seconds,
    )
