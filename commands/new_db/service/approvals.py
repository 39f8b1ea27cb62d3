"""Approving and denying requests: N distinct approvers, never the requester, until expiry.

Each approver counts once (a unique constraint, so a double click or a replayed button
cannot count twice), and the request leaves `pending_approval` through a conditional UPDATE,
so exactly one click (or the expiry sweep) decides it and queues its job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.audit import SYSTEM_ACTOR, AuditLog, Outcome
from bot.core.db import SessionFactory, rowcount, utcnow
from bot.core.errors import Conflict, NotAllowed
from bot.core.identity import Principal
from bot.core.mrkdwn import escape, escape_truncated
from bot.core.policy import Policy
from commands.new_db.ids import JobKind, PolicyAction
from commands.new_db.models import (
    DbApproval,
    DbRequest,
    Decision,
    RequestStatus,
    ResourceStatus,
)
from commands.new_db.service.database import DatabaseService, policy_context
from commands.new_db.service.form import REASON_MAX
from commands.new_db.service.rows import active_key, load_request, release_name, request_info
from commands.new_db.service.types import Notifier, RequestInfo

_DECIDED = {
    RequestStatus.APPROVED: "was already approved",
    RequestStatus.COMPLETED: "was already approved and carried out",
    RequestStatus.FAILED: "was approved, and then failed",
    RequestStatus.DENIED: "was denied",
    RequestStatus.EXPIRED: "expired without enough approvals",
    RequestStatus.CANCELLED: "was cancelled by its requester",
}


@dataclass(frozen=True)
class Decided:
    request: RequestInfo
    final: bool
    """True when this decision approved or denied the request as a whole."""


class ApprovalService:
    def __init__(
        self,
        *,
        service: DatabaseService,
        sessions: SessionFactory,
        policy: Policy,
        audit: AuditLog,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._policy = policy
        self._audit = audit
        self._notifier = notifier
        self._clock = clock

    def check_approver(self, approver: Principal, request_id: str) -> RequestInfo:
        """Refuse early (before a Deny modal opens) whoever cannot decide this request."""
        with self._sessions() as session:
            request, resource = load_request(session, request_id)
            self._refuse_if_closed(request)
            context = policy_context(tier=request.tier, team=request.team, engine=resource.engine)
            verdict = self._policy.may_approve(
                approver, requester_id=request.requester_id, action=request.action, context=context
            )
            if not verdict.allowed:
                raise NotAllowed(verdict.reason)
            return request_info(session, request, self._service.config)

    def _refuse_if_closed(self, request: DbRequest) -> None:
        if request.status != RequestStatus.PENDING:
            raise Conflict(
                f"This request {_DECIDED.get(RequestStatus(request.status), 'is closed')}."
            )
        if request.expires_at is not None and request.expires_at <= self._clock():
            raise Conflict("This request expired without enough approvals.")

    def decide(
        self, approver: Principal, request_id: str, decision: Decision, *, reason: str | None = None
    ) -> Decided:
        self.check_approver(approver, request_id)
        if decision is Decision.DENY and not (reason or "").strip():
            raise NotAllowed("Say why you deny the request; the requester will see it.")
        now = self._clock()
        try:
            with self._sessions.begin() as session:
                session.add(
                    DbApproval(
                        request_id=request_id,
                        approver_id=approver.user_id,
                        decision=decision.value,
                        reason=(reason or "").strip()[:500] or None,
                        created_at=now,
                    )
                )
                session.flush()
        except IntegrityError:
            raise Conflict("You have already decided on this request; you count once.") from None
        final = self._settle(approver.user_id, request_id, decision, reason, now)
        info = self._service.request(request_id)
        self._notifier.update_approval(info)
        self._notifier.update_request_card(info)
        verb = "approved" if decision is Decision.APPROVE else "denied"
        tail = ""
        if decision is Decision.DENY:
            tail = f": {escape_truncated((reason or '').strip(), REASON_MAX)}"
        elif not final:
            tail = f" ({len(info.approved_by)} of {info.approvals_needed} approvals)"
        self._notifier.tell(
            info.requester_id,
            f"<@{approver.user_id}> {verb} your request to {_what(info)}{tail}.",
            thread=info.progress_message,
        )
        if decision is Decision.APPROVE and not final:
            self._tell_if_stalled(info)
        return Decided(info, final)

    def _tell_if_stalled(self, info: RequestInfo) -> None:
        """Tell the requester when nobody who could give the next approval is left."""
        approvers = self._service.approvers
        if approvers is None:
            return
        r = info.resource
        stalled = approvers.problem(
            info.requester_id,
            info.action,
            policy_context(tier=r.tier, team=r.team, engine=r.engine),
            info.approvals_needed,
            voted=info.approved_by,
        )
        if stalled is not None:
            self._notifier.tell(info.requester_id, stalled, thread=info.progress_message)

    def _settle(
        self, actor: str, request_id: str, decision: Decision, reason: str | None, now: datetime
    ) -> bool:
        with self._sessions.begin() as session:
            request, resource = load_request(session, request_id)
            target = active_key(resource.engine, resource.name)
            self._audit.record(
                actor=actor,
                action=request.action,
                outcome=Outcome.APPROVED if decision is Decision.APPROVE else Outcome.DENIED,
                inputs={"request": request_id, "reason": reason, "vote": True},
                target=target,
                session=session,
            )
            if decision is Decision.APPROVE:
                approvals = session.scalar(
                    select(func.count())
                    .select_from(DbApproval)
                    .where(
                        DbApproval.request_id == request_id,
                        DbApproval.decision == Decision.APPROVE.value,
                    )
                )
                if (approvals or 0) < request.approvals_needed:
                    return False
                new_status = RequestStatus.APPROVED
            else:
                new_status = RequestStatus.DENIED
            won = session.execute(
                update(DbRequest)
                .where(DbRequest.id == request_id, DbRequest.status == RequestStatus.PENDING)
                .values(status=new_status, decided_at=now)
                .execution_options(synchronize_session=False)
            )
            if rowcount(won) != 1:
                return False
            session.refresh(request)
            if new_status is RequestStatus.APPROVED:
                if request.action == PolicyAction.CREATE:
                    resource.status = ResourceStatus.PROVISIONING
                    kind = JobKind.PROVISION
                else:
                    resource.status = ResourceStatus.DROPPING
                    kind = JobKind.DROP
                self._service.enqueue(session, kind, request_id)
            else:
                request.outcome_detail = (reason or "")[:500] or None
                if request.action == PolicyAction.CREATE:
                    release_name(resource, ResourceStatus.CANCELLED, now)
            self._audit.record(
                actor=actor,
                action=request.action,
                outcome=Outcome.APPROVED
                if new_status is RequestStatus.APPROVED
                else Outcome.DENIED,
                inputs={"request": request_id, "final": True},
                target=target,
                session=session,
            )
            return True

    def expire_due(self) -> int:
        """Deny every pending request past its expiry and tell everyone; returns how many."""
        now = self._clock()
        with self._sessions() as session:
            due = session.scalars(
                select(DbRequest.id).where(
                    DbRequest.status == RequestStatus.PENDING, DbRequest.expires_at <= now
                )
            ).all()
        expired = 0
        for request_id in due:
            if self._expire(request_id, now):
                expired += 1
                info = self._service.request(request_id)
                self._notifier.update_approval(info)
                self._notifier.update_request_card(info)
                self._notifier.tell(
                    info.requester_id,
                    f"Your request to {_what(info)} expired without enough approvals "
                    f"({len(info.approved_by)} of {info.approvals_needed}), so it was denied. "
                    "Request it again if you still need it.",
                    thread=info.progress_message,
                )
        return expired

    def _expire(self, request_id: str, now: datetime) -> bool:
        with self._sessions.begin() as session:
            won = session.execute(
                update(DbRequest)
                .where(DbRequest.id == request_id, DbRequest.status == RequestStatus.PENDING)
                .values(status=RequestStatus.EXPIRED, decided_at=now)
                .execution_options(synchronize_session=False)
            )
            if rowcount(won) != 1:
                return False
            request, resource = load_request(session, request_id)
            if request.action == PolicyAction.CREATE:
                release_name(resource, ResourceStatus.CANCELLED, now)
            self._audit.record(
                actor=SYSTEM_ACTOR,
                action=request.action,
                outcome=Outcome.EXPIRED,
                inputs={"request": request_id},
                target=active_key(resource.engine, resource.name),
                session=session,
            )
            return True


def _what(info: RequestInfo) -> str:
    verb = "create" if info.action == PolicyAction.CREATE else "drop"
    r = info.resource
    return (
        f"{verb} {escape(r.engine_label)} `{escape(r.name)}` ({escape(r.tier)}, {escape(r.team)})"
    )
