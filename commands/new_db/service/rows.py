"""Reading and changing the feature's rows, shared by the service, the jobs and the sweeps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.core.config import ApprovalConfig
from bot.core.db import rowcount
from bot.core.errors import NotFound
from commands.new_db.ids import PolicyAction
from commands.new_db.models import (
    OPEN_REQUEST,
    DbApproval,
    DbRequest,
    DbResource,
    Decision,
    RequestStatus,
    ResourceStatus,
)
from commands.new_db.service.types import MessageRef, RequestInfo, ResourceInfo
from commands.resources.config import DatabasesSection
from integrations.provisioning_protocols import PlanLimits, ResourceSpec


def new_id() -> str:
    # Random, not sequential: the id is bound to buttons, and must not be guessable.
    return uuid.uuid4().hex


def active_key(engine: str, name: str) -> str:
    return f"{engine}:{name}"


def new_request(
    resource: DbResource,
    action: PolicyAction,
    *,
    requester_id: str,
    idempotency_key: str,
    reason: str | None,
    approval: ApprovalConfig | None,
    now: datetime,
    ttl_hours: float | None = None,
) -> DbRequest:
    """A request row for `resource`: waiting for `approval`, or approved at once without one."""
    return DbRequest(
        id=new_id(),
        action=action.value,
        status=RequestStatus.PENDING if approval else RequestStatus.APPROVED,
        idempotency_key=idempotency_key,
        resource_id=resource.id,
        requester_id=requester_id,
        tier=resource.tier,
        team=resource.team,
        ttl_hours=ttl_hours,
        reason=reason,
        approvals_needed=approval.count if approval else 0,
        expires_at=now + timedelta(hours=approval.expires_after_hours) if approval else None,
        created_at=now,
    )


def resource_info(row: DbResource, config: DatabasesSection) -> ResourceInfo:
    return ResourceInfo(
        id=row.id,
        engine=row.engine,
        engine_label=config.label(row.engine),
        name=row.name,
        tier=row.tier,
        team=row.team,
        owner_id=row.owner_id,
        plan=row.plan,
        status=row.status,
        created_at=row.created_at,
        expires_at=row.expires_at,
        vault_path=row.vault_path,
        monthly_cost=config.monthly_cost(row.engine, row.plan),
        currency=config.currency,
    )


def _ref(channel: str | None, ts: str | None) -> MessageRef | None:
    return MessageRef(channel, ts) if channel and ts else None


def request_info(session: Session, row: DbRequest, config: DatabasesSection) -> RequestInfo:
    resource = session.get(DbResource, row.resource_id)
    if resource is None:
        raise NotFound("That resource no longer exists.")
    decisions = session.scalars(
        select(DbApproval).where(DbApproval.request_id == row.id).order_by(DbApproval.id)
    ).all()
    return request_info_of(row, resource, decisions, config)


def request_info_of(
    row: DbRequest,
    resource: DbResource,
    decisions: Sequence[DbApproval],
    config: DatabasesSection,
) -> RequestInfo:
    """The snapshot of a request whose resource and decisions (in order) are at hand."""
    return RequestInfo(
        id=row.id,
        action=row.action,
        status=row.status,
        requester_id=row.requester_id,
        resource=resource_info(resource, config),
        ttl_hours=row.ttl_hours,
        reason=row.reason,
        approvals_needed=row.approvals_needed,
        approved_by=tuple(d.approver_id for d in decisions if d.decision == Decision.APPROVE),
        denied_by=tuple(
            (d.approver_id, d.reason) for d in decisions if d.decision == Decision.DENY
        ),
        expires_at=row.expires_at,
        approval_message=_ref(row.approval_channel, row.approval_ts),
        progress_message=_ref(row.progress_channel, row.progress_ts),
        outcome_detail=row.outcome_detail,
    )


def load_request(session: Session, request_id: str) -> tuple[DbRequest, DbResource]:
    request = session.get(DbRequest, request_id)
    resource = session.get(DbResource, request.resource_id) if request is not None else None
    if request is None or resource is None:
        raise NotFound("That request does not exist (any more).")
    return request, resource


def release_name(resource: DbResource, status: ResourceStatus, now: datetime) -> None:
    """End the resource's hold on its name (it failed, was cancelled or dropped)."""
    resource.status = status
    resource.active_key = None
    resource.password_ciphertext = None
    if status is ResourceStatus.DROPPED:
        resource.dropped_at = now


def spec_of(resource: DbResource, config: DatabasesSection) -> ResourceSpec:
    """What the provisioner gets: the plan's limits as configured now."""
    engine = next((c for k, c in config.engines.items() if k.value == resource.engine), None)
    plan = engine.plans.get(resource.plan) if engine is not None else None
    limits = (
        PlanLimits(
            connection_limit=plan.connection_limit,
            max_bytes=plan.max_bytes,
            max_messages=plan.max_messages,
            max_age_seconds=plan.max_age_seconds,
        )
        if plan is not None
        else PlanLimits()
    )
    return ResourceSpec(engine=resource.engine, name=resource.name, limits=limits)


def lock_if_active(session: Session, resource_id: str) -> bool:
    """Lock the resource's row for this transaction if it is active; False if it is not.

    A no-op UPDATE as a portable row lock, and the transaction's first statement: a concurrent
    drop or re-issue of the resource waits here for this one instead of reading past it.
    """
    locked = session.execute(
        update(DbResource)
        .where(DbResource.id == resource_id, DbResource.status == ResourceStatus.ACTIVE)
        .values(status=DbResource.status)
        .execution_options(synchronize_session=False)
    )
    return rowcount(locked) == 1


def open_request_key(session: Session, resource_id: str, action: PolicyAction) -> str | None:
    """The idempotency key of the resource's `action` request still open, if there is one."""
    return session.scalar(
        select(DbRequest.idempotency_key).where(
            DbRequest.resource_id == resource_id,
            DbRequest.action == action.value,
            DbRequest.status.in_(OPEN_REQUEST),
        )
    )
