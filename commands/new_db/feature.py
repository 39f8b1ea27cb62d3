"""`/platform new-db`, `dbs`, `drop-db`, `db-credentials` as one Feature: config, tables,
routes, jobs, sweep.

`build_graph` wires the feature's services from plain values (its tests call it directly);
`NewDbFeature.build` does that on the core and returns what the runtime registers. The
provisioners and the secret store are adapters the runtime's feature list passes in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from apscheduler.triggers.interval import IntervalTrigger

from bot.core.audit import AuditLog
from bot.core.config import CoreConfig
from bot.core.db import SessionFactory
from bot.core.errors import ConfigProblem
from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.feedback import ActionFeedback
from bot.core.identity import IdentityService
from bot.core.jobs import JobQueue
from bot.core.policy import Policy
from bot.core.router import Subcommand
from bot.core.scheduler import ScheduledTask
from commands.new_db.handlers import NEW_DB_USAGE, NewDbHandlers
from commands.new_db.ids import ActionId, CallbackId, JobKind, PolicyAction
from commands.new_db.jobs.base import JobBase
from commands.new_db.jobs.drop import DropJob
from commands.new_db.jobs.handoff import HandoffJob
from commands.new_db.jobs.provision import ProvisionJob
from commands.new_db.jobs.rotate import RotateJob
from commands.new_db.notifier import Audience, SlackNotifier
from commands.new_db.service.approvals import ApprovalService
from commands.new_db.service.approvers import ApproverCheck
from commands.new_db.service.cancels import CancelService
from commands.new_db.service.dashboard import DbDashboard
from commands.new_db.service.database import DatabaseService
from commands.new_db.service.drops import DropService
from commands.new_db.service.lifecycle import Lifecycle
from commands.new_db.service.options import FormOptions
from commands.new_db.service.reveal import CredentialReveal
from commands.new_db.service.rotations import RotationService
from commands.new_db.service.types import Notifier
from commands.resources.config import DatabasesSection
from commands.resources.credentials import credential_box, key_problem
from integrations.provisioning_protocols import Provisioner, SecretStore

ACTION_WORDS: dict[str, str] = {
    PolicyAction.CREATE: "create databases",
    PolicyAction.DROP: "drop databases",
    PolicyAction.LIST: "list databases",
    PolicyAction.ROTATE: "re-issue database credentials",
}
"""How refusals name the feature's actions."""


@dataclass
class NewDb:
    """The feature's services and jobs, wired together."""

    service: DatabaseService
    form: FormOptions
    approvals: ApprovalService
    drops: DropService
    reveals: CredentialReveal
    lifecycle: Lifecycle
    rotations: RotationService
    provision_job: ProvisionJob
    drop_job: DropJob
    handoff_job: HandoffJob
    rotate_job: RotateJob
    sweep_interval: timedelta
    cancels: CancelService
    dashboard: DbDashboard


logger = logging.getLogger(__name__)
_Job = TypeVar("_Job", bound=JobBase)


def build_graph(
    config: CoreConfig,
    section: DatabasesSection,
    *,
    sessions: SessionFactory,
    policy: Policy,
    audit: AuditLog,
    jobs: JobQueue,
    notifier: Notifier,
    provisioners: Mapping[str, Provisioner],
    secrets: SecretStore | None,
    feedback: ActionFeedback | None = None,
    identity: IdentityService | None = None,
) -> NewDb:
    """The feature; with `identity`, requests nobody could approve are refused at submit."""
    policy.describe_actions(ACTION_WORDS)
    box = credential_box(section)
    service = DatabaseService(
        config=section,
        team_names={k: t.name or k for k, t in config.teams.items()},
        team_channels={k: t.channel for k, t in config.teams.items()},
        sessions=sessions,
        policy=policy,
        audit=audit,
        jobs=jobs,
        notifier=notifier,
        approvers=ApproverCheck(policy=policy, identity=identity) if identity else None,
    )
    approvals, lifecycle, rotations = _services_over(
        service, sessions=sessions, policy=policy, audit=audit, notifier=notifier
    )
    cancels = CancelService(
        service=service, sessions=sessions, audit=audit, jobs=jobs, notifier=notifier
    )

    def job(kind: type[_Job], **extra: Any) -> _Job:
        return kind(
            config=section,
            sessions=sessions,
            audit=audit,
            notifier=notifier,
            provisioners=provisioners,
            secrets=secrets,
            box=box,
            feedback=feedback,
            **extra,
        )

    return NewDb(
        service=service,
        form=FormOptions(service=service, policy=policy),
        approvals=approvals,
        drops=DropService(service=service, sessions=sessions, policy=policy, audit=audit),
        reveals=CredentialReveal(sessions=sessions, audit=audit, box=box, notifier=notifier),
        lifecycle=lifecycle,
        rotations=rotations,
        provision_job=job(ProvisionJob, jobs=jobs),
        drop_job=job(DropJob),
        handoff_job=job(HandoffJob),
        rotate_job=job(RotateJob, jobs=jobs),
        sweep_interval=timedelta(minutes=section.sweep_interval_minutes),
        cancels=cancels,
        dashboard=DbDashboard(
            config=section, sessions=sessions, policy=policy, jobs=jobs, cancels=cancels
        ),
    )


def _services_over(
    service: DatabaseService,
    *,
    sessions: SessionFactory,
    policy: Policy,
    audit: AuditLog,
    notifier: Notifier,
) -> tuple[ApprovalService, Lifecycle, RotationService]:
    """The services that work on the requests and resources `service` records."""
    approvals = ApprovalService(
        service=service, sessions=sessions, policy=policy, audit=audit, notifier=notifier
    )
    lifecycle = Lifecycle(
        service=service, approvals=approvals, sessions=sessions, audit=audit, notifier=notifier
    )
    rotations = RotationService(
        service=service, sessions=sessions, policy=policy, audit=audit, notifier=notifier
    )
    return approvals, lifecycle, rotations


ProvisionersFactory = Callable[[DatabasesSection, Core], Mapping[str, Provisioner]]
SecretStoreFactory = Callable[[DatabasesSection, Core], SecretStore | None]
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _check_key(section: DatabasesSection, shared_database: bool) -> list[ConfigProblem]:
    """Replicas sharing one database must seal credentials with one shared key."""
    problem = key_problem(section, shared_database=shared_database)
    return [] if problem is None else [ConfigProblem(("databases", "secret_key"), problem)]


@dataclass(frozen=True)
class NewDbFeature:
    """Self-service databases, caches and queues; off while `databases.engines` is empty."""

    provisioners: ProvisionersFactory
    secrets: SecretStoreFactory
    name: str = "new-db"
    sections: Sequence[ConfigSection] = (
        ConfigSection("databases", DatabasesSection, check=_check_key),
    )
    models: str | None = "commands.new_db.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[NewDb | None]:
        section = core.section("databases", DatabasesSection)
        if not section.engines:
            return Parts(api=None)
        graph = build_graph(
            core.config,
            section,
            sessions=core.sessions,
            policy=core.policy,
            audit=core.audit,
            jobs=core.jobs,
            notifier=SlackNotifier(core.messenger, _audience(core)),
            provisioners=self.provisioners(section, core),
            secrets=self.secrets(section, core),
            feedback=core.feedback,
            identity=core.identity,
        )
        handlers = NewDbHandlers(
            service=graph.service,
            form=graph.form,
            approvals=graph.approvals,
            drops=graph.drops,
            reveals=graph.reveals,
            lifecycle=graph.lifecycle,
            rotations=graph.rotations,
            identity=core.identity,
        )
        lifecycle = graph.lifecycle
        return Parts(
            api=graph,
            dashboard=graph.dashboard,
            subcommands=_subcommands(handlers),
            listeners=_listeners(handlers),
            job_handlers={
                JobKind.PROVISION: graph.provision_job,
                JobKind.DROP: graph.drop_job,
                JobKind.HANDOFF: graph.handoff_job,
                JobKind.ROTATE: graph.rotate_job,
            },
            tasks=[
                ScheduledTask(
                    id="new-db-sweep",
                    func=lambda: logger.info("new-db sweep: %s", lifecycle.sweep()),
                    trigger=IntervalTrigger(seconds=graph.sweep_interval.total_seconds()),
                    description="Expire unanswered database approvals; warn about and drop "
                    "databases past their time-to-live",
                )
            ],
        )


def _audience(core: Core) -> Audience:
    """Dashboards to refresh after a message about a request: its people and approvers."""

    def approvers(action: str, context: Mapping[str, str]) -> Collection[str]:
        return core.policy.approver_candidates(action, context, core.identity) or ()

    return Audience(changed=core.dashboard.changed, approvers=approvers)


def _subcommands(handlers: NewDbHandlers) -> list[Subcommand]:
    return [
        Subcommand(
            name="new-db",
            summary="Request a database, cache or queue (PostgreSQL, MariaDB, Redis, …).",
            usage=NEW_DB_USAGE,
            example="/platform new-db postgres orders-db --env staging",
            action=PolicyAction.CREATE,
            handler=handlers.handle_new_db,
            mutating=True,
            aliases=("newdb",),
        ),
        Subcommand(
            name="dbs",
            summary="Your and your teams' databases: status, tier, owner, expiry.",
            usage="/platform dbs",
            example="/platform dbs",
            action=PolicyAction.LIST,
            handler=handlers.handle_dbs,
        ),
        Subcommand(
            name="drop-db",
            summary="Drop one of your databases (asks you to type its name).",
            usage="/platform drop-db NAME",
            example="/platform drop-db orders-db",
            action=PolicyAction.DROP,
            handler=handlers.handle_drop_db,
            mutating=True,
        ),
        Subcommand(
            name="db-credentials",
            summary="Re-issue a database's credentials: a new password; the old one stops working.",
            usage="/platform db-credentials NAME",
            example="/platform db-credentials orders-db",
            action=PolicyAction.ROTATE,
            handler=handlers.handle_db_credentials,
            mutating=True,
        ),
    ]


def _listeners(handlers: NewDbHandlers) -> list[Listener]:
    action, view = ListenerKind.ACTION, ListenerKind.VIEW
    return [
        Listener(action, ActionId.ENGINE, handlers.handle_form_change),
        Listener(action, ActionId.TIER, handlers.handle_form_change),
        Listener(action, ActionId.TEAM, handlers.handle_form_change),
        Listener(action, ActionId.APPROVE, handlers.handle_approve),
        Listener(action, ActionId.DENY, handlers.handle_deny),
        Listener(action, ActionId.REVEAL, handlers.handle_reveal),
        Listener(action, ActionId.EXTEND, handlers.handle_extend),
        Listener(action, ActionId.DROP_NOW, handlers.handle_drop_now),
        Listener(action, ActionId.OPEN_FORM, handlers.handle_open_form),
        Listener(view, CallbackId.NEW_DB, handlers.handle_request_submission),
        Listener(view, CallbackId.DENY, handlers.handle_deny_submission),
        Listener(view, CallbackId.DROP, handlers.handle_drop_submission),
        Listener(view, CallbackId.EXTEND, handlers.handle_extend_submission),
        Listener(view, CallbackId.ROTATE, handlers.handle_rotate_submission),
    ]
