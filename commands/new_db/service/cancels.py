"""`/platform cancel ID` and the dashboard's Cancel for database requests.

Only the requester cancels, and only what has not started: a request waiting for approval,
or an approved one whose job no worker has picked up yet. One that is running is not
interrupted (a half-made database is worse than a whole one): the person is told to drop it
once it is ready. Everything changes through conditional UPDATEs in one transaction, so of a
cancel racing an approval (or a worker claiming the job), exactly one wins, and a second
cancel finds the request already cancelled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.core.audit import AuditLog, Outcome
from bot.core.dashboard import SHORT_REF_LENGTH, CancelOutcome
from bot.core.db import SessionFactory, rowcount, utcnow
from bot.core.identity import Principal
from bot.core.jobs import JobQueue
from bot.core.mrkdwn import escape
from commands.new_db.ids import JobKind, PolicyAction
from commands.new_db.models import DbRequest, DbResource, RequestStatus, ResourceStatus
from commands.new_db.service.database import DatabaseService
from commands.new_db.service.rows import active_key, release_name
from commands.new_db.service.types import Notifier, RequestInfo

REF_PATTERN = re.compile(rf"[0-9a-f]{{{SHORT_REF_LENGTH},32}}")
CANCELLED_DETAIL = "Cancelled by its requester."
JOB_OF = {
    PolicyAction.CREATE: JobKind.PROVISION,
    PolicyAction.DROP: JobKind.DROP,
    PolicyAction.ROTATE: JobKind.ROTATE,
}
_CLOSED = {
    RequestStatus.CANCELLED: "was already cancelled",
    RequestStatus.COMPLETED: "is already done",
    RequestStatus.FAILED: "already failed; nothing is left to cancel",
    RequestStatus.DENIED: "was denied, so nothing was done",
    RequestStatus.EXPIRED: "expired without enough approvals, so nothing was done",
}
_STARTED = {
    PolicyAction.CREATE: "provisioning has started. Once it is ready, drop it with "
    "`/platform drop-db {name}`",
    PolicyAction.DROP: "the drop has started and cannot be stopped half-way",
    PolicyAction.ROTATE: "the new credentials are being issued; the old ones already stop working",
}


def what(info: RequestInfo) -> str:
    """The request in words (plain text): "create PostgreSQL orders-db (prod)"."""
    verb = {PolicyAction.DROP: "drop", PolicyAction.ROTATE: "re-issue credentials of"}.get(
        PolicyAction(info.action), "create"
    )
    r = info.resource
    return f"{verb} {r.engine_label} {r.name} ({r.tier})"


class CancelService:
    def __init__(
        self,
        *,
        service: DatabaseService,
        sessions: SessionFactory,
        audit: AuditLog,
        jobs: JobQueue,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._audit = audit
        self._jobs = jobs
        self._notifier = notifier
        self._clock = clock

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        """Cancel `principal`'s request `ref`; None when they have no request by that id."""
        ref = ref.strip().lower()
        if REF_PATTERN.fullmatch(ref) is None:
            return None
        try:
            with self._sessions.begin() as session:
                found = session.scalars(
                    select(DbRequest)
                    .where(
                        DbRequest.requester_id == principal.user_id, DbRequest.id.startswith(ref)
                    )
                    .limit(2)
                ).all()
                if len(found) != 1:
                    return None if not found else CancelOutcome(False, _ambiguous(ref))
                request_id = found[0].id
                self._cancel_in(session, principal, found[0])
        except _Refused as refused:
            return CancelOutcome(False, str(refused))
        info = self._service.request(request_id)
        self._notifier.update_approval(info)
        self._notifier.update_request_card(info)
        return CancelOutcome(
            True,
            f"Cancelled your request to {escape(what(info))}; nothing was done. "
            "The approvers' message says so.",
            notify=frozenset({info.requester_id, *info.approved_by}),
        )

    def _cancel_in(self, session: Session, principal: Principal, request: DbRequest) -> None:
        """Cancel in `session`, or raise `_Refused` (rolling it back) saying why not."""
        status = RequestStatus(request.status)
        resource = session.get(DbResource, request.resource_id)
        if resource is None or status in _CLOSED:
            raise _Refused(f"That request {_CLOSED.get(status, 'is closed')}.")
        action = PolicyAction(request.action)
        if status is RequestStatus.APPROVED:
            job_key = f"{JOB_OF[action]}:{request.id}"
            if not self._jobs.cancel_unstarted(job_key, session=session):
                started = _STARTED[action].format(name=escape(resource.name))
                raise _Refused(f"That request cannot be cancelled: {started}.")
        now = self._clock()
        won = session.execute(
            update(DbRequest)
            .where(DbRequest.id == request.id, DbRequest.status == status)
            .values(status=RequestStatus.CANCELLED, decided_at=now, outcome_detail=CANCELLED_DETAIL)
            .execution_options(synchronize_session=False)
        )
        if rowcount(won) != 1:
            # Decided a moment ago (an approval, the expiry sweep): the job, if any, stays.
            raise _Refused(
                "That request was decided a moment ago; `/platform requests` shows it now."
            )
        if action is PolicyAction.CREATE:
            release_name(resource, ResourceStatus.CANCELLED, now)
        elif action is PolicyAction.DROP and resource.status == ResourceStatus.DROPPING:
            resource.status = ResourceStatus.ACTIVE
        self._audit.record(
            actor=principal.user_id,
            action=request.action,
            outcome=Outcome.CANCELLED,
            inputs={"request": request.id, "was": status.value},
            target=active_key(resource.engine, resource.name),
            session=session,
        )


class _Refused(Exception):
    """Raised inside the cancel's transaction so that nothing of it is kept."""


def _ambiguous(ref: str) -> str:
    return f"More than one of your requests starts with `{ref}`: give more of its id."
