"""The feature's object graph, built once by the composition root from plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from bot.audit import AuditLog
from bot.config import PlatformConfig
from bot.db import SessionFactory
from bot.feedback import ActionFeedback
from bot.identity import IdentityService
from bot.jobs import JobQueue
from bot.policy import Policy
from commands.new_db.approvals import ApprovalService
from commands.new_db.approvers import ApproverCheck
from commands.new_db.credentials import CredentialBox, load_or_create_key
from commands.new_db.domain import Notifier
from commands.new_db.drop_job import DropJob
from commands.new_db.drops import DropService
from commands.new_db.form import FormOptions
from commands.new_db.handoff import HandoffJob
from commands.new_db.ids import PolicyAction
from commands.new_db.job_base import JobBase
from commands.new_db.lifecycle import Lifecycle
from commands.new_db.provisioning_job import ProvisionJob
from commands.new_db.reveal import CredentialReveal
from commands.new_db.service import DatabaseService
from integrations.protocols import Provisioner, SecretStore

ACTION_WORDS: dict[str, str] = {
    PolicyAction.CREATE: "create databases",
    PolicyAction.DROP: "drop databases",
    PolicyAction.LIST: "list databases",
}
"""How refusals name the feature's actions."""


@dataclass
class NewDbFeature:
    service: DatabaseService
    form: FormOptions
    approvals: ApprovalService
    drops: DropService
    reveals: CredentialReveal
    lifecycle: Lifecycle
    provision_job: ProvisionJob
    drop_job: DropJob
    handoff_job: HandoffJob
    sweep_interval: timedelta


_Job = TypeVar("_Job", bound=JobBase)


def build_feature(
    config: PlatformConfig,
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
) -> NewDbFeature:
    """The feature; with `identity`, requests nobody could approve are refused at submit."""
    section = config.databases
    policy.describe_actions(ACTION_WORDS)
    key = (
        section.secret_key.get_secret_value().encode()
        if section.secret_key is not None
        else load_or_create_key(section.data_dir)
    )
    box = CredentialBox(key)
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
    approvals = ApprovalService(
        service=service, sessions=sessions, policy=policy, audit=audit, notifier=notifier
    )
    lifecycle = Lifecycle(
        service=service, approvals=approvals, sessions=sessions, audit=audit, notifier=notifier
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

    return NewDbFeature(
        service=service,
        form=FormOptions(service=service, policy=policy),
        approvals=approvals,
        drops=DropService(service=service, sessions=sessions, policy=policy, audit=audit),
        reveals=CredentialReveal(sessions=sessions, audit=audit, box=box, notifier=notifier),
        lifecycle=lifecycle,
        provision_job=job(ProvisionJob, jobs=jobs),
        drop_job=job(DropJob),
        handoff_job=job(HandoffJob),
        sweep_interval=timedelta(minutes=section.sweep_interval_minutes),
    )
