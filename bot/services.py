"""The composition root: the one place concrete adapters and core services are built."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine

from bot.audit import AuditLog
from bot.config import PlatformConfig
from bot.db import SessionFactory, make_engine, make_session_factory
from bot.idempotency import IdempotencyStore
from bot.identity import IdentityService
from bot.jobs import JobQueue, JobRunner
from bot.leader import LeaderElector
from bot.metrics import record_job_outcome
from bot.policy import Policy
from bot.scheduler import ScheduledTask, Scheduler, housekeeping_task
from bot.settings import Settings
from bot.usage import UsageLog
from integrations.slack_directory import SlackDirectory

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

    def start_background(self) -> None:
        """Start the job runner (every replica) and the scheduler (on the leader only)."""
        self.runner.start()
        self.scheduler.start()

    def stop_background(self) -> None:
        self.scheduler.stop()
        self.runner.stop(timeout=10)

    def close(self) -> None:
        self.stop_background()
        self.usage.close()
        self.engine.dispose()


def build_services(
    settings: Settings,
    config: PlatformConfig,
    *,
    engine: Engine | None = None,
    slack: WebClient | None = None,
) -> Services:
    engine = engine or make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    slack = slack or build_slack_client(settings)
    jobs = JobQueue(sessions)
    runner = JobRunner(
        sessions,
        engine,
        workers=config.jobs.workers,
        poll_interval=config.jobs.poll_interval_seconds,
        lease_seconds=config.jobs.lease_seconds,
        max_attempts=config.jobs.max_attempts,
        on_outcome=record_job_outcome,
        wakeup=jobs.wakeup,
    )
    idempotency = IdempotencyStore(sessions)
    tasks = [housekeeping_task(jobs, config.jobs.keep_finished_days, idempotency)]
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
        identity=IdentityService(SlackDirectory(slack), config, sessions),
        policy=Policy(config),
        audit=AuditLog(sessions),
        idempotency=idempotency,
        usage=UsageLog(sessions),
        jobs=jobs,
        runner=runner,
        scheduler=scheduler,
        tasks=tasks,
    )
