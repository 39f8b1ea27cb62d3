"""`/platform drop-db`: find the resource, confirm by its typed name, record the drop.

A drop follows the same policy as a create (`db.drop`): queued at once, or waiting for
approval in `db_request`. At most one drop per resource is ever open. Two confirmations
submitted together (two modals, two people, a click racing the TTL sweep) are serialised on
the resource row: the transaction that records a drop first takes that row's write lock with
a conditional UPDATE, then looks for an open drop, so the second one sees the first's
request (or the resource already `dropping`) and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory, utcnow
from bot.core.errors import NotAllowed, NotFound
from bot.core.identity import Principal
from bot.core.policy import Decision, Policy
from commands.new_db.ids import JobKind, PolicyAction
from commands.new_db.models import (
    DbResource,
    ResourceStatus,
)
from commands.new_db.service.database import (
    DatabaseService,
    Submitted,
    is_admin,
    policy_context,
)
from commands.new_db.service.form import (
    REASON_MAX,
    REASON_TOO_LONG,
    require_resource_name,
)
from commands.new_db.service.rows import (
    active_key,
    lock_if_active,
    new_request,
    open_request_key,
    request_info,
)
from commands.new_db.service.types import ResourceInfo
from commands.resources.forms import FormInvalid

NOT_ACTIVE = "This resource is not active any more."
ALREADY_REQUESTED = "A drop of this resource is already requested."


class DropService:
    def __init__(
        self,
        *,
        service: DatabaseService,
        sessions: SessionFactory,
        policy: Policy,
        audit: AuditLog,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._policy = policy
        self._audit = audit
        self._clock = clock

    def find_droppable(self, principal: Principal, name: str) -> ResourceInfo:
        """The active resource called `name` that the caller can see."""
        require_resource_name(name)
        visible = self._service.visible_resources(principal)
        matches = [r for r in visible if r.name == name and r.status == ResourceStatus.ACTIVE]
        if not matches:
            busy = [r for r in visible if r.name == name]
            if busy:
                raise NotAllowed(f"{name} is {busy[0].status.replace('_', ' ')}; try again later.")
            raise NotFound(
                f"You have no active resource named {name}.",
                suggestions=sorted({r.name for r in visible})[:5],
            )
        return matches[0]

    def request_drop(
        self,
        principal: Principal,
        resource_id: str,
        *,
        typed_name: str,
        reason: str | None,
        idempotency_key: str,
    ) -> Submitted:
        """Confirm and record a drop: queued now, or waiting for approval like a create."""
        found = self._service.submitted_for(idempotency_key)
        if found is not None:
            return found
        context = self._confirmed(principal, resource_id, typed_name)
        if reason is not None and len(reason) > REASON_MAX:
            raise FormInvalid({"reason": REASON_TOO_LONG})
        decision = self._policy.can(principal, PolicyAction.DROP, context)
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        if decision.require_reason and not (reason or "").strip():
            raise FormInvalid({"reason": "A reason is required to drop this (it is audited)."})
        if decision.approval is not None and self._service.approvers is not None:
            self._service.approvers.refuse_unapprovable(
                principal, PolicyAction.DROP, context, decision.approval
            )
        submitted = self._insert_drop(principal, resource_id, decision, reason, idempotency_key)
        if submitted is None:
            # Lost the race to a concurrent submission of this same modal (a Slack retry).
            found = self._service.submitted_for(idempotency_key)
            if found is None:
                raise FormInvalid({"confirm_name": ALREADY_REQUESTED})
            return found
        return submitted

    def _confirmed(self, principal: Principal, resource_id: str, typed_name: str) -> dict[str, str]:
        """Check the confirmation against the resource; the policy context of its drop."""
        with self._sessions() as session:
            resource = session.get(DbResource, resource_id)
            if resource is None or resource.status != ResourceStatus.ACTIVE:
                raise FormInvalid({"confirm_name": NOT_ACTIVE})
            if typed_name.strip() != resource.name:
                raise FormInvalid({"confirm_name": f"Type {resource.name} to confirm."})
            if not (
                is_admin(principal)
                or resource.owner_id == principal.user_id
                or resource.team in principal.teams
            ):
                raise FormInvalid({"confirm_name": "Only its owner's team can drop it."})
            if open_request_key(session, resource_id, PolicyAction.DROP) is not None:
                # Said before the policy is asked: a second drop is pointless either way.
                raise FormInvalid({"confirm_name": ALREADY_REQUESTED})
            return policy_context(tier=resource.tier, team=resource.team, engine=resource.engine)

    def _insert_drop(
        self,
        principal: Principal,
        resource_id: str,
        decision: Decision,
        reason: str | None,
        idempotency_key: str,
    ) -> Submitted | None:
        now = self._clock()
        approval = decision.approval
        with self._sessions.begin() as session:
            if not lock_if_active(session, resource_id):
                raise FormInvalid({"confirm_name": NOT_ACTIVE})
            open_drop = open_request_key(session, resource_id, PolicyAction.DROP)
            if open_drop is not None:
                if open_drop == idempotency_key:
                    return None
                raise FormInvalid({"confirm_name": ALREADY_REQUESTED})
            resource = session.get(DbResource, resource_id)
            assert resource is not None
            request = new_request(
                resource,
                PolicyAction.DROP,
                requester_id=principal.user_id,
                idempotency_key=idempotency_key,
                reason=(reason or "").strip() or None,
                approval=approval,
                now=now,
            )
            session.add(request)
            session.flush()
            self._audit.record(
                actor=principal.user_id,
                action=PolicyAction.DROP,
                outcome=Outcome.REQUESTED,
                inputs={"reason": request.reason, "needs_approval": approval is not None},
                target=active_key(resource.engine, resource.name),
                idempotency_key=idempotency_key,
                session=session,
            )
            if approval is None:
                resource.status = ResourceStatus.DROPPING
                self._service.enqueue(session, JobKind.DROP, request.id)
            info = request_info(session, request, self._service.config)
        return self._service.submitted(info, approval)
