"""The composition root: the core services, then every feature of the feature list on them.

`build_services` builds the core (database, jobs, policy, identity, audit, the Slack ports),
calls each feature's `build(core)`, and wires the parts: subcommands on the router, job
handlers on the runner, scheduled tasks on the leader's scheduler. The Bolt app registers
the listeners (`bot.runtime.app`). Nothing here knows what a feature does.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine

from bot.core.audit import AuditLog
from bot.core.config import JobsRunIn
from bot.core.db import SessionFactory, is_postgres, make_engine, make_session_factory, utcnow
from bot.core.errors import ConfigProblem
from bot.core.feature import Core, Feature, Listener, Parts
from bot.core.feedback import FeedbackRelay
from bot.core.idempotency import IdempotencyStore
from bot.core.identity import IdentityService
from bot.core.jobs import JobListener, JobQueue, JobRunner
from bot.core.leader import LeaderElector
from bot.core.metrics import record_job_outcome
from bot.core.policy import Policy
from bot.core.router import CommandRouter
from bot.core.scheduler import ScheduledTask, Scheduler, housekeeping_task
from bot.core.usage import UsageLog
from bot.runtime import scheduled_jobs
from bot.runtime.config import PlatformConfig, feature_sections
from bot.runtime.features import FEATURES, check_names
from bot.runtime.settings import Settings
from integrations.slack_directory import SlackDirectory
from integrations.slack_messaging import SlackMessenger, SlackRoster

logger = logging.getLogger(__name__)

# Every replica uses the same key for the scheduler's leader lock: "platform-bot leader".
LEADER_LOCK_KEY = 0x706C6174_6C656164
SLACK_TIMEOUT_SECONDS = 10


def leader_lock_key(tenant: str = "") -> int:
    """The scheduler's leader lock: the same in every replica, distinct per tenant."""
    if not tenant:
        return LEADER_LOCK_KEY
    digest = hashlib.sha256(f"platform-bot leader {tenant}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


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


class Role(StrEnum):
    """What a process does with the background work (`jobs.run_in` decides for serve/socket)."""

    ALL_IN_ONE = "all-in-one"
    """Slack requests, jobs and (on the leader) the scheduler: the default, and the shell."""
    REQUESTS = "requests"
    """Slack requests only: ack and enqueue; workers run the jobs and the scheduler."""
    WORKER = "worker"
    """Jobs and (on the leader) the scheduler, no Slack requests: `platform-bot worker`."""

    @property
    def runs_jobs(self) -> bool:
        return self is not Role.REQUESTS


def serving_role(config: PlatformConfig) -> Role:
    """The role of a process that serves Slack (serve, socket) under this config."""
    return Role.REQUESTS if config.jobs.run_in is JobsRunIn.WORKERS else Role.ALL_IN_ONE


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
    listener: JobListener
    scheduler: Scheduler
    router: CommandRouter
    parts: dict[str, Parts[Any]] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    role: Role | None = None
    """What `start_background` started; None before it and after `stop_background`."""

    @property
    def tasks(self) -> list[ScheduledTask]:
        return [task for parts in self.parts.values() for task in parts.tasks]

    @property
    def listeners(self) -> list[Listener]:
        return [listener for parts in self.parts.values() for listener in parts.listeners]

    def feature(self, name: str) -> Any:
        """A built feature's own object graph (`Parts.api`), for tests and benchmarks."""
        return self.parts[name].api

    def start_background(self, role: Role = Role.ALL_IN_ONE) -> None:
        """Start what `role` runs: the job runner (woken by LISTEN/NOTIFY on PostgreSQL) and
        the scheduler (on the leader only) unless it only serves requests, and each
        feature's background work always."""
        if self.role is not None:
            raise RuntimeError(f"background work is already started (as {self.role})")
        self.role = role
        if role.runs_jobs:
            self.listener.start()
            self.runner.start()
            self.scheduler.start()
        for parts in self.parts.values():
            for start in parts.start:
                start()

    def stop_background(self) -> None:
        """Stop the scheduler (releasing leadership), let running jobs finish for
        `jobs.stop_grace_seconds` and give back the rest, then the features' work."""
        role, self.role = self.role, None
        if role is not None and role.runs_jobs:
            self.scheduler.stop()
            self.runner.stop(timeout=self.config.jobs.stop_grace_seconds)
            self.listener.stop()
        for parts in reversed(self.parts.values()):
            for close in reversed(parts.close):
                close()

    def close(self) -> None:
        self.stop_background()
        self.usage.close()
        for close in reversed(self.closers):
            close()
        self.engine.dispose()


def build_services(
    settings: Settings,
    config: PlatformConfig,
    *,
    engine: Engine | None = None,
    slack: WebClient | None = None,
    features: Sequence[Feature[Any]] = FEATURES,
    clock: Callable[[], datetime] = utcnow,
    tenant: str = "",
    still_installed: Callable[[], bool] | None = None,
) -> Services:
    """Build the core, then every feature on it; tests pass `features` with fake adapters.

    `tenant` names the workspace (or org) these services serve in a multi-workspace bot
    (`bot.runtime.tenants`): its scheduler has its own leader lock and task namespace, so
    each workspace has one scheduler leader among the replicas, running its own tasks, each
    run only while `still_installed` answers true."""
    check_names(features)
    engine = engine or make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    slack = slack or build_slack_client(settings)
    idempotency = IdempotencyStore(sessions)
    usage = UsageLog(sessions)
    feedback = FeedbackRelay()
    core, router = _core(
        settings,
        config,
        engine=engine,
        sessions=sessions,
        slack=slack,
        clock=clock,
        idempotency=idempotency,
        usage=usage,
        feedback=feedback,
    )
    runner = _job_runner(config, engine, sessions, core.jobs, clock)
    parts = {feature.name: feature.build(core) for feature in features}
    tasks = _wire(parts, router=router, runner=runner, feedback=feedback, core=core)
    unmet = core.actions.unmet()
    if unmet:
        # Checked once every feature is built: a caller may be built before the offer.
        for close in reversed(core.closers):
            close()
        raise ConfigProblem(("actions",), "\n" + "\n".join(unmet))
    # Built last: the scheduler takes the complete task list.
    scheduler = Scheduler(
        engine,
        timezone=config.platform.timezone,
        tasks=[housekeeping_task(core.jobs, config.jobs.keep_finished_days, idempotency), *tasks],
        elector=LeaderElector(engine, key=leader_lock_key(tenant)),
        namespace=tenant,
        gate=still_installed,
    )
    router.add(scheduled_jobs.subcommand(scheduler))
    return Services(
        settings=settings,
        config=config,
        engine=engine,
        sessions=sessions,
        slack=slack,
        identity=core.identity,
        policy=core.policy,
        audit=core.audit,
        idempotency=idempotency,
        usage=usage,
        jobs=core.jobs,
        runner=runner,
        listener=JobListener(engine, core.jobs.wakeup),
        scheduler=scheduler,
        router=router,
        parts=parts,
        closers=core.closers,
    )


def _core(
    settings: Settings,
    config: PlatformConfig,
    *,
    engine: Engine,
    sessions: SessionFactory,
    slack: WebClient,
    clock: Callable[[], datetime],
    idempotency: IdempotencyStore,
    usage: UsageLog,
    feedback: FeedbackRelay,
) -> tuple[Core, CommandRouter]:
    """What every feature's `build` gets, and the `/platform` router they register on."""
    policy = Policy(config)
    identity = IdentityService(SlackDirectory(slack), config, sessions)
    router = CommandRouter(
        identity=identity,
        policy=policy,
        idempotency=idempotency,
        usage=usage,
        platform_name=config.platform.name,
        docs_url=config.platform.docs_url,
    )
    core = Core(
        config=config,
        sections=feature_sections(config),
        config_dir=settings.platform_config.resolve().parent,
        sessions=sessions,
        postgres=is_postgres(engine),
        clock=clock,
        policy=policy,
        identity=identity,
        audit=AuditLog(sessions),
        jobs=JobQueue(sessions, clock=clock),
        messenger=SlackMessenger(slack),
        paced_messenger=_paced_messenger(slack),
        roster=SlackRoster(slack),
        feedback=feedback,
        commands_for=router.commands_for,
        subcommand_names=lambda: router.subcommands.keys(),
    )
    return core, router


def _paced_messenger(slack: WebClient) -> SlackMessenger:
    # Survey DMs go through a client that retries nothing: the fan-out paces itself and must
    # see every 429, and a retried chat.postMessage could post twice.
    return SlackMessenger(
        WebClient(token=slack.token, base_url=slack.base_url, timeout=SLACK_TIMEOUT_SECONDS)
    )


def _wire(
    parts: Mapping[str, Parts[Any]],
    *,
    router: CommandRouter,
    runner: JobRunner,
    feedback: FeedbackRelay,
    core: Core,
) -> list[ScheduledTask]:
    """Subcommands on the router, job handlers on the runner; the features' scheduled tasks."""
    tasks: list[ScheduledTask] = []
    for built in parts.values():
        for subcommand in built.subcommands:
            router.add(subcommand)
        for kind, handler in built.job_handlers.items():
            runner.register(kind, handler)
        tasks.extend(built.tasks)
        if built.feedback is not None:
            feedback.attach(built.feedback)
        if built.catalog is not None:
            core.catalog.attach(built.catalog)
        if built.runbooks is not None:
            core.runbooks.attach(built.runbooks)
        if built.dashboard is not None:
            core.dashboard.attach(built.dashboard)
        if built.nps_rounds is not None:
            core.feedback_trends.attach_nps(built.nps_rounds)
        if built.csat_weeks is not None:
            core.feedback_trends.attach_csat(built.csat_weeks)
        core.actions.offer(built.actions)
    return tasks


def _job_runner(
    config: PlatformConfig,
    engine: Engine,
    sessions: SessionFactory,
    jobs: JobQueue,
    clock: Callable[[], datetime],
) -> JobRunner:
    return JobRunner(
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
