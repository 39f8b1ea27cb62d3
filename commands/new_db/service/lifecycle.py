"""Time-to-live: warn owners a day before expiry, drop on expiry, extend on request.

Run by one scheduled sweep on the leader; every change is a conditional update, so a sweep
that overlaps a click (Extend, Drop now) or another sweep after a failover does nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.core.audit import SYSTEM_ACTOR, AuditLog, Outcome
from bot.core.db import SessionFactory, rowcount, utcnow
from bot.core.errors import InvalidInput, NotAllowed, NotFound
from bot.core.identity import Principal
from commands.new_db.ids import JobKind, PolicyAction
from commands.new_db.models import DbResource, ResourceStatus
from commands.new_db.service.approvals import ApprovalService
from commands.new_db.service.database import DatabaseService, is_admin
from commands.new_db.service.rows import active_key, new_request, resource_info
from commands.new_db.service.types import Notifier, ResourceInfo
from commands.resources.hours import hours_problem

logger = logging.getLogger(__name__)

EXTEND_FIELD = "Extend by"


class Lifecycle:
    def __init__(
        self,
        *,
        service: DatabaseService,
        approvals: ApprovalService,
        sessions: SessionFactory,
        audit: AuditLog,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._service = service
        self._approvals = approvals
        self._sessions = sessions
        self._audit = audit
        self._notifier = notifier
        self._clock = clock

    def sweep(self) -> dict[str, int]:
        """Expire unanswered approvals, warn about and drop expiring resources."""
        return {
            "expired_requests": self._approvals.expire_due(),
            "warned": self.warn_expiring(),
            "dropped": self.drop_expired(),
        }

    def warn_expiring(self) -> int:
        now = self._clock()
        window = timedelta(hours=self._service.config.warn_before_hours)
        with self._sessions() as session:
            due = session.scalars(
                select(DbResource.id).where(
                    DbResource.status == ResourceStatus.ACTIVE,
                    DbResource.expires_at.is_not(None),
                    DbResource.expires_at <= now + window,
                    DbResource.expires_at > now,
                    DbResource.warned_at.is_(None),
                )
            ).all()
        warned = 0
        for resource_id in due:
            with self._sessions.begin() as session:
                won = session.execute(
                    update(DbResource)
                    .where(DbResource.id == resource_id, DbResource.warned_at.is_(None))
                    .values(warned_at=now)
                    .execution_options(synchronize_session=False)
                )
                if rowcount(won) != 1:
                    continue
                row = session.get(DbResource, resource_id)
                assert row is not None and row.expires_at is not None
                info = resource_info(row, self._service.config)
                hours_left = (row.expires_at - now).total_seconds() / 3600
            self._notifier.warn_expiry(info, hours_left=hours_left)
            warned += 1
        return warned

    def drop_expired(self) -> int:
        now = self._clock()
        with self._sessions() as session:
            due = session.scalars(
                select(DbResource.id).where(
                    DbResource.status == ResourceStatus.ACTIVE, DbResource.expires_at <= now
                )
            ).all()
        dropped = 0
        for resource_id in due:
            with self._sessions.begin() as session:
                won = session.execute(
                    update(DbResource)
                    .where(DbResource.id == resource_id, DbResource.status == ResourceStatus.ACTIVE)
                    .values(status=ResourceStatus.DROPPING)
                    .execution_options(synchronize_session=False)
                )
                if rowcount(won) != 1:
                    continue
                row = session.get(DbResource, resource_id)
                assert row is not None
                request = new_request(
                    row,
                    PolicyAction.DROP,
                    requester_id=SYSTEM_ACTOR,
                    idempotency_key=f"db.expire:{resource_id}",
                    reason="time-to-live expired",
                    approval=None,
                    now=now,
                )
                session.add(request)
                session.flush()
                self._audit.record(
                    actor=SYSTEM_ACTOR,
                    action=PolicyAction.DROP,
                    outcome=Outcome.REQUESTED,
                    inputs={"reason": "time-to-live expired"},
                    target=active_key(row.engine, row.name),
                    session=session,
                )
                self._service.enqueue(session, JobKind.DROP, request.id)
            dropped += 1
        return dropped

    def extend(self, principal: Principal, resource_id: str, *, hours: float) -> ResourceInfo:
        """Push the expiry out by `hours`, up to the tier's maximum time-to-live from now."""
        config = self._service.config
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.get(DbResource, resource_id)
            if row is None or row.status != ResourceStatus.ACTIVE or row.expires_at is None:
                raise NotFound("That resource is not active with an expiry any more.")
            if not (
                is_admin(principal)
                or row.owner_id == principal.user_id
                or row.team in principal.lead_of
            ):
                raise NotAllowed("Only the owner, a lead of its team or an admin may extend it.")
            max_ttl = config.tiers[row.tier].max_ttl_hours if row.tier in config.tiers else None
            if max_ttl is None:
                raise InvalidInput(f"{row.tier} resources do not expire.")
            problem = hours_problem(hours, field=EXTEND_FIELD, maximum=max_ttl)
            if problem is not None:
                raise InvalidInput(problem, field="extend_hours")
            new_expiry = min(
                row.expires_at + timedelta(hours=hours), now + timedelta(hours=max_ttl)
            )
            row.expires_at = new_expiry
            row.warned_at = None
            self._audit.record(
                actor=principal.user_id,
                action="db.extend",
                outcome=Outcome.SUCCEEDED,
                inputs={"hours": hours, "expires_at": new_expiry},
                target=active_key(row.engine, row.name),
                session=session,
            )
            info = resource_info(row, config)
        # Whoever extended it, the owner sees the new expiry (and so does the extender).
        for user in dict.fromkeys([info.owner_id, principal.user_id]):
            self._notifier.tell_extended(info, user_id=user)
        return info

    def max_extension(self, resource_id: str) -> float | None:
        """The most hours `resource_id` may be extended by: its tier's maximum time to live."""
        resource = self._service.resource(resource_id)
        tier = self._service.config.tiers.get(resource.tier)
        return tier.max_ttl_hours if tier is not None else None
