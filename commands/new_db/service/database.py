"""Requests for databases, caches and queues: validation, guardrails, approvals, listing.

A request reserves its name at once (the resource row's unique `active_key`), so a duplicate
is refused whether it comes from another person, a double submit or a Slack retry. Requests
the policy does not send for approval are queued as a `db.provision` job in the same
transaction; the others wait in `db_request` for their approvers (see approvals.py). Drops
are recorded by drops.py, the one-time reveal is reveal.py, expiry is lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.audit import AuditLog, Outcome
from bot.core.config import ApprovalConfig
from bot.core.db import SessionFactory, utcnow
from bot.core.errors import NotAllowed, NotFound, PlatformError
from bot.core.identity import Principal
from bot.core.jobs import JobQueue
from bot.core.policy import Decision, Policy
from commands.new_db.ids import JobKind, PolicyAction
from commands.new_db.models import (
    HOLDS_NAME,
    DbRequest,
    DbResource,
    RequestStatus,
    ResourceStatus,
)
from commands.new_db.service.approvers import ApproverCheck
from commands.new_db.service.form import NewDbForm, form_errors
from commands.new_db.service.rows import (
    active_key,
    new_id,
    new_request,
    request_info,
    request_info_of,
    resource_info,
)
from commands.new_db.service.types import Notifier, RequestInfo, ResourceInfo
from commands.resources.config import DatabasesSection, Driver, EngineKind
from commands.resources.forms import FormInvalid

ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class _Occupancy:
    existing_request: str | None
    taken_by: str | None
    used: int | None


@dataclass(frozen=True)
class Submitted:
    request: RequestInfo
    duplicate: bool = False
    approval_channel: str | None = None


def is_admin(principal: Principal) -> bool:
    return ADMIN_ROLE in principal.roles


def policy_context(*, tier: str, team: str, engine: str) -> dict[str, str]:
    return {"tier": tier, "team": team, "engine": engine}


def _context_of(form: NewDbForm) -> dict[str, str]:
    return policy_context(tier=form.tier, team=form.team, engine=form.engine)


class DatabaseService:
    def __init__(
        self,
        *,
        config: DatabasesSection,
        team_names: Mapping[str, str],
        team_channels: Mapping[str, str | None],
        sessions: SessionFactory,
        policy: Policy,
        audit: AuditLog,
        jobs: JobQueue,
        notifier: Notifier,
        approvers: ApproverCheck | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.approvers = approvers
        """Refuses requests nobody could approve; None leaves that to the approvals' expiry."""
        self._team_names = dict(team_names)
        self._team_channels = dict(team_channels)
        self._sessions = sessions
        self._policy = policy
        self._audit = audit
        self._jobs = jobs
        self._notifier = notifier
        self._clock = clock

    # -- the request form ------------------------------------------------------------------

    def teams_for(self, principal: Principal) -> list[str]:
        """Teams `principal` may request for: their own, or every team for an admin."""
        teams = set(self._team_names) if is_admin(principal) else set(principal.teams)
        return sorted(teams)

    def team_name(self, team: str) -> str:
        """The team's display name from the config (its key when it has none)."""
        return self._team_names.get(team, team)

    def _check_form(self, principal: Principal, form: NewDbForm) -> Decision:
        """The checks that need no database: fields, team membership and the policy."""
        errors = form_errors(self.config, form, teams=self.teams_for(principal))
        if errors:
            raise FormInvalid(errors)
        decision = self._policy.can(principal, PolicyAction.CREATE, _context_of(form))
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        if decision.require_reason and not (form.reason or "").strip():
            raise FormInvalid({"reason": "A reason is required for this request (it is audited)."})
        return decision

    def _occupancy(
        self, session: Session, form: NewDbForm, *, idempotency_key: str | None
    ) -> _Occupancy:
        """What the database says about a submission, in one round trip.

        The request already recorded under `idempotency_key`, the resource holding the name
        and the team's count in the tier: scalar subqueries of one SELECT, because this runs
        on the modal's ack path, where every round trip is paid before the user is answered.
        """
        existing = (
            select(DbRequest.id)
            .where(DbRequest.idempotency_key == idempotency_key)
            .scalar_subquery()
            if idempotency_key is not None
            else null()
        )
        taken = (
            select(DbResource.id)
            .where(DbResource.active_key == active_key(form.engine, form.name))
            .scalar_subquery()
        )
        counted = self.config.quotas.limit(form.team, form.tier) is not None
        used = (
            select(func.count())
            .select_from(DbResource)
            .where(
                DbResource.team == form.team,
                DbResource.tier == form.tier,
                DbResource.status.in_(HOLDS_NAME),
            )
            .scalar_subquery()
            if counted
            else null()
        )
        row = session.execute(select(existing, taken, used)).one()
        return _Occupancy(existing_request=row[0], taken_by=row[1], used=row[2])

    def _check_free(self, form: NewDbForm, occupancy: _Occupancy) -> None:
        if occupancy.taken_by is not None:
            raise FormInvalid(
                {"name": f"A {self.config.label(form.engine)} resource named {form.name} exists."}
            )
        limit = self.config.quotas.limit(form.team, form.tier)
        if limit is not None and (occupancy.used or 0) >= limit:
            raise FormInvalid(
                {
                    "team": f"{self._team_names.get(form.team, form.team)} has used its "
                    f"quota of {limit} {form.tier} resource(s); drop one first."
                }
            )

    def submit(self, principal: Principal, form: NewDbForm, *, idempotency_key: str) -> Submitted:
        """Validate and record the request; queue it, or leave it waiting for approval.

        One transaction: the retry lookup, the name and quota checks and the inserts share a
        connection (the modal waits for this answer). A retry or double submit is answered
        with the first request before the form is judged again, so a submission that took
        the last quota slot is not refused on its own retry.
        """
        if self.approvers is not None:
            # Before anything is written: a request nobody could approve is refused now.
            decision = self._policy_only(principal, form)
            if decision is not None and decision.approval is not None:
                existing = self.submitted_for(idempotency_key)
                if existing is not None:
                    return existing
                self.approvers.refuse_unapprovable(
                    principal, PolicyAction.CREATE, _context_of(form), decision.approval
                )
        try:
            return self._record(principal, form, idempotency_key)
        except IntegrityError:
            # Lost a race: the same submission (a retry) or another request for the name.
            existing = self.submitted_for(idempotency_key)
            if existing is not None:
                return existing
            raise FormInvalid(
                {"name": f"A {self.config.label(form.engine)} resource named {form.name} exists."}
            ) from None

    def submitted_for(self, idempotency_key: str) -> Submitted | None:
        """The request already recorded under `idempotency_key` (a retry or double submit)."""
        with self._sessions() as session:
            row = session.scalars(
                select(DbRequest).where(DbRequest.idempotency_key == idempotency_key)
            ).one_or_none()
            if row is None:
                return None
            return Submitted(request_info(session, row, self.config), duplicate=True)

    def _record(self, principal: Principal, form: NewDbForm, idempotency_key: str) -> Submitted:
        with self._sessions.begin() as session:
            occupancy = self._occupancy(session, form, idempotency_key=idempotency_key)
            if occupancy.existing_request is not None:
                row = session.get(DbRequest, occupancy.existing_request)
                if row is not None:
                    return Submitted(request_info(session, row, self.config), duplicate=True)
            decision = self._check_form(principal, form)
            self._check_free(form, occupancy)
            return self._insert(session, principal, form, decision, idempotency_key)

    def _insert(
        self,
        session: Session,
        principal: Principal,
        form: NewDbForm,
        decision: Decision,
        idempotency_key: str,
    ) -> Submitted:
        now = self._clock()
        approval = decision.approval
        resource = DbResource(
            id=new_id(),
            engine=form.engine,
            name=form.name,
            tier=form.tier,
            team=form.team,
            owner_id=principal.user_id,
            plan=form.plan,
            status=ResourceStatus.AWAITING_APPROVAL if approval else ResourceStatus.PROVISIONING,
            active_key=active_key(form.engine, form.name),
            created_at=now,
        )
        request = new_request(
            resource,
            PolicyAction.CREATE,
            requester_id=principal.user_id,
            idempotency_key=idempotency_key,
            reason=(form.reason or "").strip() or None,
            approval=approval,
            now=now,
            ttl_hours=form.ttl_hours if self.config.tiers[form.tier].expires else None,
        )
        session.add(resource)
        session.flush()  # the request refers to it (no ORM relationship orders the inserts)
        session.add(request)
        session.flush()
        if approval is None:
            self.enqueue(session, JobKind.PROVISION, request.id)
        # Last: the audit append holds the chain's lock until this transaction commits.
        self._audit.record(
            actor=principal.user_id,
            action=PolicyAction.CREATE,
            outcome=Outcome.REQUESTED,
            # Every field as submitted (engine, name, tier, team, plan, ttl_hours, reason),
            # the reason as stored.
            inputs={
                **form.model_dump(),
                "reason": request.reason,
                "needs_approval": approval is not None,
                "driver": self._driver_of(form.engine),
            },
            target=active_key(form.engine, form.name),
            idempotency_key=idempotency_key,
            session=session,
        )
        # Built from the rows just written: a new request has no decisions to read back.
        return self.submitted(request_info_of(request, resource, (), self.config), approval)

    def _driver_of(self, engine: str) -> str:
        """What makes the engine's resources: an orchestrator, else the bot's provisioners."""
        driver = self.config.engines[EngineKind(engine)].driver
        return (driver or Driver.LOCAL).value

    def _policy_only(self, principal: Principal, form: NewDbForm) -> Decision | None:
        """The policy's answer for a well-formed form; None while the form has errors."""
        try:
            return self._check_form(principal, form)
        except PlatformError:
            return None  # refused with its field errors by `_record`

    def submitted(self, request: RequestInfo, approval: ApprovalConfig | None) -> Submitted:
        """A request just recorded; one that waits for `approval` names where that is asked:
        the rule's channel, or else the team's own."""
        channel = None
        if approval is not None:
            channel = approval.channel or self._team_channels.get(request.resource.team)
        return Submitted(request, approval_channel=channel)

    def enqueue(self, session: Session, kind: JobKind, request_id: str) -> None:
        self._jobs.enqueue(
            kind=kind,
            payload={"request_id": request_id},
            idempotency_key=f"{kind}:{request_id}",
            max_attempts=self.config.provision_attempts,
            session=session,
        )

    def announce(self, submitted: Submitted) -> None:
        """After the ack: the requester's card and the approval message of a waiting request.

        A request that was queued at once gets its card from its job, which threads its
        progress under it: posting one here too would race the job and show two cards.
        The card's reference is stored before the approval is posted, so no approval (and
        so no job) can start before the card is known.
        """
        request = submitted.request
        if submitted.duplicate or request.status != RequestStatus.PENDING:
            return
        card = self._notifier.post_request_card(request)
        if card is not None:
            # Conditional: the first card stays the one.
            with self._sessions.begin() as session:
                session.execute(
                    update(DbRequest)
                    .where(DbRequest.id == request.id, DbRequest.progress_ts.is_(None))
                    .values(progress_channel=card.channel, progress_ts=card.ts)
                )
        if submitted.approval_channel is None:
            return
        approval = self._notifier.post_approval(request, submitted.approval_channel)
        if approval is not None:
            with self._sessions.begin() as session:
                session.execute(
                    update(DbRequest)
                    .where(DbRequest.id == request.id)
                    .values(approval_channel=approval.channel, approval_ts=approval.ts)
                )

    # -- reading: listings and snapshots ---------------------------------------------------------

    def visible_resources(self, principal: Principal) -> list[ResourceInfo]:
        """The caller's resources and their teams' (every resource for an admin)."""
        query = select(DbResource).where(DbResource.status.in_(HOLDS_NAME))
        if not is_admin(principal):
            query = query.where(
                (DbResource.owner_id == principal.user_id)
                | DbResource.team.in_(sorted(principal.teams))
            )
        with self._sessions() as session:
            rows = session.scalars(query.order_by(DbResource.team, DbResource.name)).all()
            return [resource_info(row, self.config) for row in rows]

    def resource(self, resource_id: str) -> ResourceInfo:
        with self._sessions() as session:
            row = session.get(DbResource, resource_id)
            if row is None:
                raise NotFound("That resource does not exist.")
            return resource_info(row, self.config)

    def request(self, request_id: str) -> RequestInfo:
        with self._sessions() as session:
            row = session.get(DbRequest, request_id)
            if row is None:
                raise NotFound("That request does not exist.")
            return request_info(session, row, self.config)
