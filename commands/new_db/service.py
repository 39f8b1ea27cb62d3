"""Requests for databases, caches and queues: validation, guardrails, approvals, listing.

A request reserves its name at once (the resource row's unique `active_key`), so a duplicate
is refused whether it comes from another person, a double submit or a Slack retry. Requests
the policy does not send for approval are queued as a `db.provision` job in the same
transaction; the others wait in `db_request` for their approvers (see approvals.py). Drops
are recorded by drops.py, the one-time reveal is reveal.py, expiry is lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.audit import AuditLog, Outcome
from bot.db import SessionFactory, utcnow
from bot.errors import InvalidInput, NotFound
from bot.identity import Principal
from bot.jobs import JobQueue
from bot.policy import Decision, Policy
from commands.new_db.config import DatabasesSection, EngineKind
from commands.new_db.domain import Notifier, RequestInfo, ResourceInfo, name_problem
from commands.new_db.ids import JobKind, PolicyAction
from commands.new_db.models import (
    HOLDS_NAME,
    DbRequest,
    DbResource,
    RequestStatus,
    ResourceStatus,
)
from commands.new_db.records import (
    active_key,
    new_id,
    request_info,
    request_info_of,
    resource_info,
)

ADMIN_ROLE = "admin"
REASON_MAX = 500


class FormInvalid(InvalidInput):
    """Field errors for the request modal, keyed by field name (engine, name, tier, …)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()), field=next(iter(errors), None))
        self.errors = dict(errors)


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FormChoices:
    engines: list[Option]
    tiers: list[Option]
    teams: list[Option]
    plans: list[Option]
    engine: str
    tier: str
    team: str | None
    ttl_hours: float | None
    max_ttl_hours: float | None


@dataclass(frozen=True)
class NewDbForm:
    engine: str
    name: str
    tier: str
    team: str
    plan: str
    ttl_hours: float | None = None
    reason: str | None = None


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
    approvers: list[str] = field(default_factory=list)


def is_admin(principal: Principal) -> bool:
    return ADMIN_ROLE in principal.roles


def policy_context(*, tier: str, team: str, engine: str) -> dict[str, str]:
    return {"tier": tier, "team": team, "engine": engine}


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
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
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

    def choices(
        self, principal: Principal, *, engine: str | None = None, tier: str | None = None
    ) -> FormChoices:
        engines = [Option(k.value, self.config.label(k.value)) for k in self.config.engines]
        if not engines:
            raise NotFound("No database engines are configured on this platform.")
        default_engine = self.config.default_engine.value if self.config.default_engine else None
        chosen = engine if engine in {e.value for e in engines} else default_engine
        chosen = chosen or engines[0].value
        tiers = list(self.config.tiers)
        chosen_tier = tier if tier in tiers else tiers[0]
        tier_config = self.config.tiers[chosen_tier]
        teams = self.teams_for(principal)
        own = sorted(principal.teams)
        return FormChoices(
            engines=engines,
            tiers=[Option(t, c.label or t) for t, c in self.config.tiers.items()],
            teams=[Option(t, self._team_names.get(t, t)) for t in teams],
            plans=[
                Option(p, f"{c.label or p} ({', '.join(c.tiers)})")
                for p, c in self.config.engines[EngineKind(chosen)].plans.items()
            ],
            engine=chosen,
            tier=chosen_tier,
            team=own[0] if own else (teams[0] if teams else None),
            ttl_hours=tier_config.default_ttl_hours,
            max_ttl_hours=tier_config.max_ttl_hours,
        )

    def _check_form(self, principal: Principal, form: NewDbForm) -> Decision:
        """The checks that need no database: fields, team membership and the policy."""
        errors: dict[str, str] = {}
        engine_config = next(
            (c for k, c in self.config.engines.items() if k.value == form.engine), None
        )
        if engine_config is None:
            errors["engine"] = "Pick one of the engines offered."
        problem = name_problem(form.name)
        if problem:
            errors["name"] = problem
        tier = self.config.tiers.get(form.tier)
        if tier is None:
            errors["tier"] = "Pick one of the tiers offered."
        if form.team not in self.teams_for(principal):
            errors["team"] = "You can only request resources for a team you belong to."
        if engine_config is not None and tier is not None:
            plan = engine_config.plans.get(form.plan)
            if plan is None:
                errors["plan"] = f"Pick one of the {self.config.label(form.engine)} plans."
            elif form.tier not in plan.tiers:
                errors["plan"] = (
                    f"The {form.plan} plan is not available for {form.tier}; "
                    f"it is for {', '.join(plan.tiers)}."
                )
        if tier is not None and tier.max_ttl_hours is not None:
            if form.ttl_hours is None or form.ttl_hours <= 0:
                errors["ttl"] = "Give a time-to-live in hours, e.g. 72."
            elif form.ttl_hours > tier.max_ttl_hours:
                errors["ttl"] = f"At most {tier.max_ttl_hours:g} hours for {form.tier}."
        if form.reason and len(form.reason) > REASON_MAX:
            errors["reason"] = f"At most {REASON_MAX} characters."
        if errors:
            raise FormInvalid(errors)
        context = policy_context(tier=form.tier, team=form.team, engine=form.engine)
        decision = self._policy.can(principal, PolicyAction.CREATE, context)
        if not decision.allowed:
            raise FormInvalid({"tier": decision.reason})
        if decision.require_reason and not (form.reason or "").strip():
            raise FormInvalid({"reason": "A reason is required for this request (it is audited)."})
        return decision

    def validate(self, principal: Principal, form: NewDbForm) -> Decision:
        """Check everything that can be checked without writing; raise FormInvalid."""
        decision = self._check_form(principal, form)
        with self._sessions() as session:
            self._check_free(form, self._occupancy(session, form, idempotency_key=None))
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
        request = DbRequest(
            id=new_id(),
            action=PolicyAction.CREATE.value,
            status=RequestStatus.PENDING if approval else RequestStatus.APPROVED,
            idempotency_key=idempotency_key,
            resource_id=resource.id,
            requester_id=principal.user_id,
            tier=form.tier,
            team=form.team,
            ttl_hours=form.ttl_hours if self.config.tiers[form.tier].expires else None,
            reason=(form.reason or "").strip() or None,
            approvals_needed=approval.count if approval else 0,
            expires_at=now + timedelta(hours=approval.expires_after_hours) if approval else None,
            created_at=now,
        )
        session.add(resource)
        session.flush()
        session.add(request)
        session.flush()
        self._audit.record(
            actor=principal.user_id,
            action=PolicyAction.CREATE,
            outcome=Outcome.REQUESTED,
            inputs={
                "engine": form.engine,
                "name": form.name,
                "tier": form.tier,
                "team": form.team,
                "plan": form.plan,
                "ttl_hours": form.ttl_hours,
                "reason": request.reason,
                "needs_approval": approval is not None,
            },
            target=active_key(form.engine, form.name),
            idempotency_key=idempotency_key,
            session=session,
        )
        if approval is None:
            self.enqueue(session, JobKind.PROVISION, request.id)
        # Built from the rows just written: a new request has no decisions to read back.
        info = request_info_of(request, resource, (), self.config)
        channel = None
        if approval is not None:
            channel = approval.channel or self.team_channel(form.team)
        return Submitted(
            info,
            approval_channel=channel,
            approvers=list(approval.approvers) if approval else [],
        )

    def team_channel(self, team: str) -> str | None:
        """The team's own channel, where its approvals go when a rule names none."""
        return self._team_channels.get(team)

    def enqueue(self, session: Session, kind: JobKind, request_id: str) -> None:
        self._jobs.enqueue(
            kind=kind,
            payload={"request_id": request_id},
            idempotency_key=f"{kind}:{request_id}",
            max_attempts=self.config.provision_attempts,
            session=session,
        )

    def announce(self, submitted: Submitted) -> None:
        """After the ack: the requester's card and, when needed, the approval message."""
        if submitted.duplicate:
            return
        request = submitted.request
        card = self._notifier.post_request_card(request)
        approval = None
        if submitted.approval_channel and request.status == RequestStatus.PENDING:
            approval = self._notifier.post_approval(request, submitted.approval_channel)
        if card is None and approval is None:
            return
        # Conditional UPDATEs rather than read-then-write: one round trip each, and the
        # provisioning job may have posted a card first; the first card stays the one.
        with self._sessions.begin() as session:
            if card is not None:
                session.execute(
                    update(DbRequest)
                    .where(DbRequest.id == request.id, DbRequest.progress_ts.is_(None))
                    .values(progress_channel=card.channel, progress_ts=card.ts)
                )
            if approval is not None:
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
