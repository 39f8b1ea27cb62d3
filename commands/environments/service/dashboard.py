"""What a person's dashboard shows of environments: theirs, their requests, approvals on them.

Ready (and departing) environments are resources; pending, creating and recently failed ones
are requests. The queries are bounded and batched (`records.infos` reads every environment's
resources and votes in three queries, none when there are no environments), because the
App Home is drawn on every open and after every change: the person's environments and every
pending one are one query. Buttons are the feature's own, so a click runs the same
listener, with the same checks of who clicked, as on the feature's own messages.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from bot.core.dashboard import (
    ApprovalItem,
    Button,
    CancelOutcome,
    DashboardItems,
    Mrkdwn,
    RequestItem,
    RequestState,
    ResourceItem,
    short_ref,
)
from bot.core.identity import Principal
from bot.core.jobs import JobInfo, JobStatus
from commands.environments.ids import ActionId, PolicyAction
from commands.environments.models import Environment, EnvStatus, ResourceState
from commands.environments.service import records
from commands.environments.service.cancels import EnvCancels, create_job_key
from commands.environments.service.records import EnvContext, policy_context
from commands.environments.service.types import EnvInfo

FAILED_SHOWN_FOR = timedelta(days=7)
"""How long a failed environment stays on its requester's dashboard."""
READ_MAX = 500
"""Rows read per list: more than anyone could act on from one screen."""
_RESOURCES = (EnvStatus.READY, EnvStatus.DESTROYING)
_REQUESTS = (EnvStatus.PENDING, EnvStatus.CREATING)


class EnvDashboard:
    def __init__(self, ctx: EnvContext, cancels: EnvCancels) -> None:
        self._ctx = ctx
        self._cancels = cancels

    def items_for(self, principal: Principal) -> DashboardItems:
        ctx = self._ctx
        since = ctx.clock() - FAILED_SHOWN_FOR
        mine = (
            select(Environment.id)
            .where(
                Environment.requested_by == principal.user_id,
                or_(
                    Environment.status.in_((*_RESOURCES, *_REQUESTS)),
                    (Environment.status == EnvStatus.FAILED) & (Environment.created_at >= since),
                ),
            )
            .order_by(Environment.created_at.desc())
            .limit(READ_MAX)
        )
        pending = (
            select(Environment.id)
            .where(Environment.status == EnvStatus.PENDING)
            .order_by(Environment.created_at)
            .limit(READ_MAX)
        )
        # Both lists in one query (a pending environment of the person's own is in both), and
        # their resources and votes read once.
        both = select(Environment).where(or_(Environment.id.in_(mine), Environment.id.in_(pending)))
        with ctx.sessions() as session:
            rows = list(session.scalars(both))
            infos = {info.id: info for info in records.infos(ctx, session, rows)}
        own = sorted(
            (e for e in infos.values() if e.requested_by == principal.user_id),
            key=lambda e: e.created_at,
            reverse=True,
        )[:READ_MAX]  # the person's own rows all met `mine` (a pending one meets both)
        waiting = sorted(
            (e for e in infos.values() if e.status == EnvStatus.PENDING),
            key=lambda e: e.created_at,
        )[:READ_MAX]
        creating = [e for e in own if e.status == EnvStatus.CREATING]
        jobs = ctx.jobs.by_keys([create_job_key(e.id) for e in creating])
        return DashboardItems(
            resources=[_resource(e) for e in own if e.status in _RESOURCES],
            requests=[
                self._request(e, jobs.get(create_job_key(e.id)))
                for e in own
                if e.status not in _RESOURCES
            ],
            approvals=[self._approval(e) for e in waiting if self._waits_on(principal, e)],
            quick_actions=[Button("New environment", ActionId.CREATE_PREFILLED, "{}")],
            pending_approvals=len(waiting),
        )

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        return self._cancels.cancel(principal, ref)

    def _action(self, env: EnvInfo) -> str:
        if env.clone_of is not None:
            return PolicyAction.CLONE
        template = self._ctx.templates.get(env.template)
        return template.config.action if template is not None else PolicyAction.CREATE

    def _context(self, env: EnvInfo) -> dict[str, str]:
        return policy_context(tier=env.tier, team=env.team, template=env.template)

    def _waits_on(self, principal: Principal, env: EnvInfo) -> bool:
        if env.requested_by == principal.user_id or principal.user_id in env.approvers:
            return False
        verdict = self._ctx.policy.may_approve(
            principal,
            requester_id=env.requested_by,
            action=self._action(env),
            context=self._context(env),
        )
        return verdict.allowed

    def _request(self, env: EnvInfo, job: JobInfo | None) -> RequestItem:
        item = RequestItem(
            ref=short_ref(env.id),
            request_id=env.id,
            what=_what(env),
            state=RequestState.FAILED,
            created_at=env.created_at,
            detail=env.failure or "",
        )
        if env.status == EnvStatus.PENDING:
            return RequestItem(
                ref=item.ref,
                request_id=env.id,
                what=item.what,
                state=RequestState.PENDING,
                created_at=env.created_at,
                approvals=f"{len(env.approvers)} of {env.approvals_needed} approvals",
                approvers=Mrkdwn(
                    self._ctx.policy.approvers_named(self._action(env), self._context(env))
                ),
            )
        if env.status == EnvStatus.CREATING:
            unstarted = job is None or (job.status == JobStatus.QUEUED and job.attempts == 0)
            ready = sum(r.state == ResourceState.READY for r in env.resources)
            return RequestItem(
                ref=item.ref,
                request_id=env.id,
                what=item.what,
                state=RequestState.QUEUED if unstarted else RequestState.RUNNING,
                created_at=env.created_at,
                detail="waiting for a worker"
                if unstarted
                else f"creating: {ready} of {len(env.resources)} resources ready",
            )
        return item

    def _approval(self, env: EnvInfo) -> ApprovalItem:
        return ApprovalItem(
            what=_what(env),
            requester_id=env.requested_by,
            created_at=env.created_at,
            reason=env.reason or "",
            approvals=f"{len(env.approvers)} of {env.approvals_needed} approvals",
            buttons=(
                Button("Approve", ActionId.APPROVE, env.id, "primary"),
                Button("Deny", ActionId.DENY, env.id, "danger"),
            ),
        )


def _what(env: EnvInfo) -> str:
    verb = "clone" if env.clone_of else "create"
    return f"{verb} environment {env.name} ({env.template}, {env.tier})"


def _resource(env: EnvInfo) -> ResourceItem:
    buttons: list[Button] = []
    if env.status == EnvStatus.READY:
        if env.expires_at is not None:
            buttons.append(Button("Extend", ActionId.EXTEND, env.id))
        if env.credentials_waiting:
            buttons.append(Button("Credentials", ActionId.REVEAL, env.id, "primary"))
        buttons.append(Button("Destroy", ActionId.DESTROY_NOW, env.id, "danger"))
    return ResourceItem(
        kind=f"Environment ({env.template})",
        name=env.name,
        status=env.status.replace("_", " "),
        tier=env.tier,
        team=env.team_name,
        expires_at=env.expires_at,
        monthly_cost=env.monthly_cost,
        currency=env.currency,
        buttons=tuple(buttons),
    )
