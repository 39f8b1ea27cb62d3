"""`/platform db-credentials NAME`: re-issue a running resource's credentials.

Only the resource's owner may (as only they may reveal its credentials), and only while it is
active and its engine has a password. The command only finds the resource and says what will
happen; nothing changes before the owner confirms. The confirmation records a `db.rotate`
request, its audit entry and the `db.rotate` job (jobs/rotate.py) in one transaction, under the
modal's idempotency key, so a double submit or a Slack retry re-issues once. Re-issuing never
waits for approvals (a leaked password must stop working now): a `db.rotate` rule asking for
approvals or a reason refuses it instead. At most one re-issue per resource is open at a time;
confirmations racing each other are serialised on the resource row as drops are (see drops.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory, utcnow
from bot.core.errors import Conflict, NotAllowed, NotFound
from bot.core.identity import Principal
from bot.core.policy import Policy
from commands.new_db.ids import JobKind, PolicyAction
from commands.new_db.models import DbResource, ResourceStatus
from commands.new_db.service.database import DatabaseService, Submitted, policy_context
from commands.new_db.service.form import require_resource_name
from commands.new_db.service.rows import (
    active_key,
    lock_if_active,
    new_request,
    open_request_key,
    request_info,
    resource_info,
)
from commands.new_db.service.types import Notifier, ResourceInfo
from commands.resources.config import EngineKind

# Engines whose resources have no password to re-issue.
NO_PASSWORD = frozenset({EngineKind.SQLITE.value})
ALREADY_ROTATING = "New credentials for {name} are already being issued; they come by DM."
NEEDS_APPROVAL = (
    "The policy asks for approvals or a reason to re-issue credentials, which re-issuing "
    "does not take; ask the platform team to give `db.rotate` a rule without them."
)


def not_owner(name: str) -> str:
    return f"Only the person who requested {name} can re-issue its credentials."


def not_active(name: str, status: str) -> str:
    return (
        f"{name} is {status.replace('_', ' ')}; its credentials can be re-issued only while "
        "it is active."
    )


def no_password(engine_label: str) -> str:
    return f"{engine_label} databases have no password; there is nothing to re-issue."


class RotationService:
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

    def find_rotatable(self, principal: Principal, name: str) -> ResourceInfo:
        """The caller's active resource called `name`, whose credentials can be re-issued."""
        require_resource_name(name)
        visible = self._service.visible_resources(principal)
        named = [r for r in visible if r.name == name]
        if not named:
            raise NotFound(
                f"You have no active resource named {name}.",
                suggestions=sorted({r.name for r in visible})[:5],
            )
        owned = [r for r in named if r.owner_id == principal.user_id]
        if not owned:
            raise NotAllowed(not_owner(name))
        active = [r for r in owned if r.status == ResourceStatus.ACTIVE]
        if not active:
            raise Conflict(not_active(name, owned[0].status))
        with_password = [r for r in active if r.engine not in NO_PASSWORD]
        if not with_password:
            raise Conflict(no_password(active[0].engine_label))
        resource = with_password[0]
        self._check_policy(principal, resource)
        return resource

    def request_rotation(
        self, principal: Principal, resource_id: str, *, idempotency_key: str
    ) -> Submitted:
        """Record the re-issue and queue its job; a retry gets the first one's answer."""
        found = self._service.submitted_for(idempotency_key)
        if found is not None:
            return found
        with self._sessions() as session:
            row = session.get(DbResource, resource_id)
            if row is None:
                raise NotFound("That resource does not exist.")
            resource = resource_info(row, self._service.config)
        self._check(principal, resource)
        submitted = self._insert(principal, resource, idempotency_key)
        if submitted is None:
            # Lost the race to a concurrent submission of this same modal (a Slack retry).
            found = self._service.submitted_for(idempotency_key)
            if found is None:
                raise Conflict(ALREADY_ROTATING.format(name=resource.name))
            return found
        return submitted

    def announce(self, submitted: Submitted) -> None:
        """Tell the requester their new credentials are on their way (once per request)."""
        if submitted.duplicate:
            return
        request = submitted.request
        self._notifier.tell(
            request.requester_id, f"Re-issuing credentials for {request.resource.name}…"
        )

    def _check(self, principal: Principal, resource: ResourceInfo) -> None:
        """The command's checks again: the resource may have changed while the modal was open."""
        if resource.owner_id != principal.user_id:
            self._audit.record(
                actor=principal.user_id,
                action=PolicyAction.ROTATE,
                outcome=Outcome.REJECTED,
                target=resource.id,
            )
            raise NotAllowed(not_owner(resource.name))
        if resource.status != ResourceStatus.ACTIVE:
            raise Conflict(not_active(resource.name, resource.status))
        if resource.engine in NO_PASSWORD:
            raise Conflict(no_password(resource.engine_label))
        self._check_policy(principal, resource)

    def _check_policy(self, principal: Principal, resource: ResourceInfo) -> None:
        context = policy_context(tier=resource.tier, team=resource.team, engine=resource.engine)
        decision = self._policy.can(principal, PolicyAction.ROTATE, context)
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        if decision.approval is not None or decision.require_reason:
            # Refused rather than skipped: a rule the bot cannot follow must not be ignored.
            raise NotAllowed(NEEDS_APPROVAL)

    def _insert(
        self, principal: Principal, resource: ResourceInfo, idempotency_key: str
    ) -> Submitted | None:
        with self._sessions.begin() as session:
            if not lock_if_active(session, resource.id):
                raise Conflict(not_active(resource.name, "no longer active"))
            open_key = open_request_key(session, resource.id, PolicyAction.ROTATE)
            if open_key is not None:
                if open_key == idempotency_key:
                    return None
                raise Conflict(ALREADY_ROTATING.format(name=resource.name))
            row = session.get(DbResource, resource.id)
            assert row is not None
            request = new_request(
                row,
                PolicyAction.ROTATE,
                requester_id=principal.user_id,
                idempotency_key=idempotency_key,
                reason=None,
                approval=None,
                now=self._clock(),
            )
            session.add(request)
            session.flush()
            self._audit.record(
                actor=principal.user_id,
                action=PolicyAction.ROTATE,
                outcome=Outcome.REQUESTED,
                inputs={"request": request.id},
                target=active_key(row.engine, row.name),
                idempotency_key=idempotency_key,
                session=session,
            )
            self._service.enqueue(session, JobKind.ROTATE, request.id)
            info = request_info(session, request, self._service.config)
        return Submitted(info)
