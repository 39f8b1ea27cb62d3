"""What a person's dashboard shows of databases: theirs, their requests, approvals on them.

Four queries in one session however many rows there are (the App Home is published on
every open and after every change): the person's resources with whether credentials wait
for them, their open or recently failed requests, every pending request (for "waiting on
you" and the admins' count), and the votes on both lists; the jobs behind approved
requests only when there are some. Buttons are the feature's own, so a click runs the
same listener, with the same checks, as on the feature's own messages.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

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
from bot.core.db import SessionFactory, utcnow
from bot.core.identity import Principal
from bot.core.jobs import JobInfo, JobQueue, JobStatus
from bot.core.policy import Policy
from commands.new_db.ids import ActionId, PolicyAction
from commands.new_db.models import (
    DbApproval,
    DbCredentialDrop,
    DbRequest,
    DbResource,
    RequestStatus,
    ResourceStatus,
)
from commands.new_db.service.cancels import JOB_OF, CancelService, what
from commands.new_db.service.database import policy_context
from commands.new_db.service.rows import request_info_of, resource_info
from commands.new_db.service.types import STEPS, RequestInfo
from commands.resources.config import DatabasesSection

FAILED_SHOWN_FOR = timedelta(days=7)
"""How long a failed request stays on its requester's dashboard."""
PENDING_READ_MAX = 500
"""Pending requests read for "waiting on you": more than anyone could act on at once."""
_OWN = (ResourceStatus.ACTIVE, ResourceStatus.DROPPING)
"""Listed as resources; one still provisioning is listed as a running request."""
_Row = tuple[DbRequest, DbResource]
_Votes = dict[str, list[DbApproval]]


class DbDashboard:
    def __init__(
        self,
        *,
        config: DatabasesSection,
        sessions: SessionFactory,
        policy: Policy,
        jobs: JobQueue,
        cancels: CancelService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._config = config
        self._sessions = sessions
        self._policy = policy
        self._jobs = jobs
        self._cancels = cancels
        self._clock = clock

    def items_for(self, principal: Principal) -> DashboardItems:
        waiting_drop = (
            select(DbCredentialDrop.resource_id)
            .where(
                DbCredentialDrop.resource_id == DbResource.id,
                DbCredentialDrop.owner_id == principal.user_id,
            )
            .exists()
        )
        with self._sessions() as session:
            owned = session.execute(
                select(DbResource, waiting_drop)
                .where(DbResource.owner_id == principal.user_id, DbResource.status.in_(_OWN))
                .order_by(DbResource.name)
            ).all()
            resources = [self._resource(row, bool(drop)) for row, drop in owned]
            mine = self._own_requests(session, principal)
            pending = self._pending(session)
            # One read of the votes for both lists (a pending request of the person's own is
            # in both).
            votes = _votes(session, list({r.id: r for r, _ in [*mine, *pending]}))
            requests = self._requests(mine, votes)
            approvals = self._approvals(pending, votes, principal)
        return DashboardItems(
            resources=resources,
            requests=requests,
            approvals=approvals,
            quick_actions=[Button("New database", ActionId.OPEN_FORM, "dashboard")],
            pending_approvals=len(pending),
        )

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        return self._cancels.cancel(principal, ref)

    def _resource(self, row: DbResource, credentials_waiting: bool) -> ResourceItem:
        info = resource_info(row, self._config)
        buttons: list[Button] = []
        if row.status == ResourceStatus.ACTIVE:
            if row.expires_at is not None:
                buttons.append(Button("Extend", ActionId.EXTEND, row.id))
            if credentials_waiting:
                buttons.append(Button("Credentials", ActionId.REVEAL, row.id, "primary"))
            buttons.append(Button("Drop", ActionId.DROP_NOW, row.id, "danger"))
        return ResourceItem(
            kind=info.engine_label,
            name=info.name,
            status=info.status.replace("_", " "),
            tier=info.tier,
            team=info.team,
            expires_at=info.expires_at,
            monthly_cost=info.monthly_cost,
            currency=info.currency,
            buttons=tuple(buttons),
        )

    def _own_requests(self, session: Session, principal: Principal) -> list[_Row]:
        since = self._clock() - FAILED_SHOWN_FOR
        rows = session.execute(
            select(DbRequest, DbResource)
            .join(DbResource, DbResource.id == DbRequest.resource_id)
            .where(
                DbRequest.requester_id == principal.user_id,
                or_(
                    DbRequest.status.in_((RequestStatus.PENDING, RequestStatus.APPROVED)),
                    (DbRequest.status == RequestStatus.FAILED) & (DbRequest.created_at >= since),
                ),
            )
            .order_by(DbRequest.created_at.desc())
        ).all()
        return [(request, resource) for request, resource in rows]

    def _pending(self, session: Session) -> list[_Row]:
        rows = session.execute(
            select(DbRequest, DbResource)
            .join(DbResource, DbResource.id == DbRequest.resource_id)
            .where(DbRequest.status == RequestStatus.PENDING)
            .order_by(DbRequest.created_at)
            .limit(PENDING_READ_MAX)
        ).all()
        return [(request, resource) for request, resource in rows]

    def _requests(self, rows: Sequence[_Row], votes: _Votes) -> list[RequestItem]:
        infos = [
            request_info_of(request, resource, votes[request.id], self._config)
            for request, resource in rows
        ]
        jobs = self._jobs.by_keys(
            [_job_key(i) for i in infos if i.status == RequestStatus.APPROVED]
        )
        return [self._request(info, jobs.get(_job_key(info))) for info in infos]

    def _request(self, info: RequestInfo, job: JobInfo | None) -> RequestItem:
        status = RequestStatus(info.status)
        base = RequestItem(
            ref=short_ref(info.id),
            request_id=info.id,
            what=what(info),
            state=RequestState.FAILED,
            created_at=info.resource.created_at,
            detail=info.outcome_detail or "",
        )
        if status is RequestStatus.PENDING:
            r = info.resource
            context = policy_context(tier=r.tier, team=r.team, engine=r.engine)
            return dataclasses.replace(
                base,
                state=RequestState.PENDING,
                detail="",
                approvals=f"{len(info.approved_by)} of {info.approvals_needed} approvals",
                approvers=Mrkdwn(self._policy.approvers_named(info.action, context)),
            )
        if status is RequestStatus.APPROVED:
            if job is None or (job.status == JobStatus.QUEUED and job.attempts == 0):
                return dataclasses.replace(
                    base, state=RequestState.QUEUED, detail="waiting for a worker"
                )
            return dataclasses.replace(base, state=RequestState.RUNNING, detail=_step(job))
        return base

    def _approvals(
        self, rows: Sequence[_Row], votes: _Votes, principal: Principal
    ) -> list[ApprovalItem]:
        found = []
        for request, resource in rows:
            voters = {vote.approver_id for vote in votes[request.id]}
            if request.requester_id == principal.user_id or principal.user_id in voters:
                continue
            context = policy_context(tier=request.tier, team=request.team, engine=resource.engine)
            verdict = self._policy.may_approve(
                principal, requester_id=request.requester_id, action=request.action, context=context
            )
            if not verdict.allowed:
                continue
            info = request_info_of(request, resource, votes[request.id], self._config)
            found.append(
                ApprovalItem(
                    what=what(info),
                    requester_id=info.requester_id,
                    created_at=request.created_at,
                    reason=info.reason or "",
                    approvals=f"{len(info.approved_by)} of {info.approvals_needed} approvals",
                    buttons=(
                        Button("Approve", ActionId.APPROVE, info.id, "primary"),
                        Button("Deny", ActionId.DENY, info.id, "danger"),
                    ),
                )
            )
        return found


def _votes(session: Session, request_ids: Sequence[str]) -> _Votes:
    found: dict[str, list[DbApproval]] = defaultdict(list)
    if request_ids:
        for vote in session.scalars(
            select(DbApproval).where(DbApproval.request_id.in_(request_ids)).order_by(DbApproval.id)
        ):
            found[vote.request_id].append(vote)
    return found


def _job_key(info: RequestInfo) -> str:
    return f"{JOB_OF[PolicyAction(info.action)]}:{info.id}"


def _step(job: JobInfo) -> str:
    done = int(job.state.get("done", 0) or 0)
    # STEPS runs queued, the job's steps, ready: `done` steps of the job are behind it.
    return str(STEPS[min(done + 1, len(STEPS) - 1)])
