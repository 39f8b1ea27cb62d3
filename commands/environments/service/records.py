"""The feature's shared pieces: its collaborators, name rules, and rows → what people see.

`EnvContext` is every service's collaborators in one value (built once in feature.py).
Rows never leave a session: services hand out `EnvInfo` (for views) and `EnvShape` (for
drivers) instead.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.audit import AuditLog
from bot.core.db import SessionFactory
from bot.core.errors import NotFound
from bot.core.identity import Principal
from bot.core.jobs import JobQueue
from bot.core.mrkdwn import escape
from bot.core.policy import Policy
from commands.environments.config import EnvironmentsSection
from commands.environments.drivers.base import EnvDriver, EnvShape, ResourceShape
from commands.environments.ids import JobKind
from commands.environments.models import (
    LIVE,
    EnvApproval,
    Environment,
    EnvResource,
    EnvStatus,
)
from commands.environments.service.templates import (
    MAX_NAME,
    MODULE_ENGINE,
    NOT_PROVISIONED,
    ORCHESTRATOR_ENGINE,
    Template,
    plan_limits,
)
from commands.environments.service.types import EnvInfo, EnvRequest, Notifier, ResourceInfo
from commands.resources.config import DatabasesSection
from integrations.provisioning_protocols import SecretStore

NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,18}[a-z0-9]")
NAME_MIN = 3
ADMIN_ACTION = "env.admin"
"""A policy action: whoever it allows sees and manages every team's environments."""


@dataclass(frozen=True)
class EnvContext:
    section: EnvironmentsSection
    databases: DatabasesSection
    templates: Mapping[str, Template]
    drivers: Mapping[str, EnvDriver]
    sessions: SessionFactory
    policy: Policy
    audit: AuditLog
    jobs: JobQueue
    notifier: Notifier
    clock: Callable[[], datetime]
    team_names: Mapping[str, str]
    team_channels: Mapping[str, str | None]
    secrets: SecretStore | None = None
    """With `databases.vault`: credentials go there, and a wrapped token to the requester."""

    def vault_path(self, env: Environment | EnvInfo) -> str | None:
        """Where an environment's credentials live in the secrets manager, if it is used."""
        vault = self.databases.vault
        if vault is None or self.secrets is None:
            return None
        return vault.path_template.format(
            team=env.team, engine="environment", name=env.name, tier=env.tier
        )

    def template(self, key: str) -> Template:
        template = self.templates.get(key)
        if template is None:
            raise NotFound(f"There is no environment template `{escape(key[:40])}`.")
        return template


def new_id() -> str:
    # Random, not sequential: the id is bound to buttons, and must not be guessable.
    return uuid.uuid4().hex


def name_problem(name: str) -> str | None:
    """Why `name` cannot name an environment, in words for the form; None when it can."""
    if len(name) > MAX_NAME:
        return f"At most {MAX_NAME} characters."
    if len(name) < NAME_MIN:
        return f"At least {NAME_MIN} characters."
    if name.endswith("-"):
        return "End with a letter or a digit, not '-'."
    if NAME_PATTERN.fullmatch(name) is None:
        return "Use lowercase letters, digits and '-', starting with a letter."
    return None


def policy_context(env: Environment | None = None, **values: str) -> dict[str, str]:
    """What policy rules may test: `tier`, `team` and `template`."""
    if env is not None:
        values = {"tier": env.tier, "team": env.team, "template": env.template, **values}
    return dict(values)


def may_manage(ctx: EnvContext, principal: Principal, env: Environment) -> bool:
    """The requester, the owning team, and whoever the policy's `env.admin` allows."""
    if principal.user_id == env.requested_by or env.team in principal.teams:
        return True
    return ctx.policy.can(principal, ADMIN_ACTION, policy_context(env)).allowed


def live_by_name(session: Session, name: str) -> Environment | None:
    return session.scalars(select(Environment).where(Environment.live_name == name)).first()


def visible_by_name(
    ctx: EnvContext, session: Session, principal: Principal, name: str
) -> Environment:
    """The live environment `name` if `principal` may manage it; the same NotFound whether it
    does not exist or belongs to others, so names of other teams' environments don't leak."""
    env = live_by_name(session, name[:64])
    if env is None or not may_manage(ctx, principal, env):
        raise NotFound(
            f"You have no environment called `{escape(name[:40])}`. "
            "`/platform env list` shows yours and your teams'."
        )
    return env


def load(session: Session, env_id: str) -> Environment:
    env = session.get(Environment, env_id[:32])
    if env is None:
        raise NotFound("That environment no longer exists.")
    return env


def resources_of(session: Session, env: Environment) -> list[EnvResource]:
    return list(
        session.scalars(
            select(EnvResource).where(EnvResource.environment_id == env.id).order_by(EnvResource.id)
        )
    )


def live_count(session: Session, team: str, tier: str) -> int:
    query = select(func.count()).where(
        Environment.team == team, Environment.tier == tier, Environment.status.in_(LIVE)
    )
    return int(session.scalar(query) or 0)


def release(env: Environment, status: EnvStatus, when: datetime) -> None:
    """The environment leaves the live set: its name is free again."""
    env.status = status
    env.live_name = None
    if status is EnvStatus.DESTROYED:
        env.destroyed_at = when


def enqueue(ctx: EnvContext, session: Session, kind: JobKind, env_id: str, key: str) -> None:
    ctx.jobs.enqueue(
        kind=kind,
        payload={"environment_id": env_id},
        idempotency_key=f"{kind}:{env_id}:{key}",
        max_attempts=ctx.section.create_attempts,
        session=session,
    )


def info(ctx: EnvContext, session: Session, env: Environment) -> EnvInfo:
    return infos(ctx, session, [env])[0]


def infos(ctx: EnvContext, session: Session, envs: Sequence[Environment]) -> list[EnvInfo]:
    """`envs` as people see them, in order: three queries however many there are (a list
    of 50 loaded each one's resources, approvers and clone source apart: 150 round trips)."""
    if not envs:
        return []
    ids = [env.id for env in envs]
    resources: dict[str, list[ResourceInfo]] = defaultdict(list)
    labels: dict[str, str] = {}
    rows = session.execute(
        select(
            EnvResource.environment_id,
            EnvResource.key,
            EnvResource.engine,
            EnvResource.plan,
            EnvResource.name,
            EnvResource.state,
        )
        .where(EnvResource.environment_id.in_(ids))
        .order_by(EnvResource.id)
    )
    for env_id, key, engine, plan, name, state in rows:
        if engine not in labels:
            labels[engine] = _label(ctx, engine)
        resources[env_id].append(
            ResourceInfo(
                key=key,
                engine=engine,
                label=labels[engine],
                plan=plan,
                name=name,
                state=state,
            )
        )
    approvers: dict[str, list[str]] = defaultdict(list)
    approver_rows = session.execute(
        select(EnvApproval.environment_id, EnvApproval.approver_id)
        .where(EnvApproval.environment_id.in_(ids))
        .order_by(EnvApproval.id)
    )
    for env_id, approver in approver_rows:
        approvers[env_id].append(approver)
    source_ids = sorted({env.clone_of for env in envs if env.clone_of})
    sources: dict[str, str] = {}
    if source_ids:
        query = select(Environment.id, Environment.name).where(Environment.id.in_(source_ids))
        sources = {row.id: row.name for row in session.execute(query)}
    return [
        _info(ctx, env, resources[env.id], approvers[env.id], sources.get(env.clone_of or ""))
        for env in envs
    ]


def _info(
    ctx: EnvContext,
    env: Environment,
    resources: list[ResourceInfo],
    approvers: list[str],
    source_name: str | None,
) -> EnvInfo:
    return EnvInfo(
        id=env.id,
        name=env.name,
        template=env.template,
        driver=env.driver,
        tier=env.tier,
        team=env.team,
        team_name=ctx.team_names.get(env.team, env.team),
        requested_by=env.requested_by,
        reason=env.reason,
        status=env.status,
        created_at=env.created_at,
        ready_at=env.ready_at,
        expires_at=env.expires_at,
        destroyed_at=env.destroyed_at,
        max_ttl_hours=env.max_ttl_hours,
        monthly_cost=env.monthly_cost,
        currency=env.currency,
        resources=tuple(resources),
        outputs=json.loads(env.outputs or "{}"),
        clone_of=source_name,
        failure=env.failure,
        approvals_needed=env.approvals_needed,
        approvers=tuple(approvers),
        credentials_waiting=env.sealed is not None,
        approval_message=(
            (env.approval_channel, env.approval_ts)
            if env.approval_channel and env.approval_ts
            else None
        ),
    )


def shape(ctx: EnvContext, session: Session, env: Environment) -> EnvShape:
    """The environment as its driver sees it; a clone's source comes along."""
    template = ctx.template(env.template)
    source = session.get(Environment, env.clone_of) if env.clone_of else None
    return EnvShape(
        id=env.id,
        name=env.name,
        template_key=env.template,
        template=template.config,
        tier=env.tier,
        team=env.team,
        inputs=json.loads(env.inputs or "{}"),
        # From the rows, not the template: a template edited since must not change what an
        # environment that exists is made of, or what its destroy removes.
        resources=tuple(
            ResourceShape(
                key=r.key,
                engine=r.engine,
                plan=r.plan,
                name=r.name,
                label=_label(ctx, r.engine),
                limits=plan_limits(ctx.databases, r.engine, r.plan),
            )
            for r in resources_of(session, env)
            if r.engine not in NOT_PROVISIONED
        ),
        source=shape(ctx, session, source) if source is not None else None,
    )


def _label(ctx: EnvContext, engine: str) -> str:
    if engine == MODULE_ENGINE:
        return "Terraform"
    return "Orchestrator" if engine == ORCHESTRATOR_ENGINE else ctx.databases.label(engine)


def request_of(env: EnvInfo) -> EnvRequest:
    """The request an existing environment answers (for plans of its destroy)."""
    return EnvRequest(
        template=env.template,
        name=env.name,
        tier=env.tier,
        team=env.team,
        ttl_hours=None,
        reason=env.reason,
    )
