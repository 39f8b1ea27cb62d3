"""Living environments: list and show, extend and snooze, destroy, re-issue, reveal, and the
sweep that warns before expiry and destroys at it.

Every change is a conditional UPDATE on the row's status, so a double click, a retry or the
sweep racing a person does it once; every change is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.core.audit import SYSTEM_ACTOR, Outcome
from bot.core.db import rowcount
from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.core.identity import Principal
from bot.core.mrkdwn import escape
from commands.environments.ids import BlockId, JobKind, PolicyAction
from commands.environments.models import LIVE, Environment, EnvStatus
from commands.environments.service import records
from commands.environments.service.records import EnvContext, may_manage, policy_context
from commands.environments.service.types import EnvInfo, Operation, Plan
from commands.resources.credentials import CredentialBox
from commands.resources.forms import FormInvalid
from commands.resources.hours import hours_problem
from integrations.errors import IntegrationError

LIST_LIMIT = 50


@dataclass(frozen=True)
class Swept:
    warned: int = 0
    expired: int = 0
    approvals_expired: int = 0


class EnvLifecycle:
    def __init__(self, ctx: EnvContext, box: CredentialBox) -> None:
        self._ctx = ctx
        self._box = box

    # -- reading -------------------------------------------------------------------------

    def visible(self, principal: Principal) -> list[EnvInfo]:
        """Live environments `principal` requested or their teams own, newest first."""
        query = (
            select(Environment)
            .where(
                Environment.status.in_(LIVE),
                or_(
                    Environment.requested_by == principal.user_id,
                    Environment.team.in_(sorted(principal.teams)),
                ),
            )
            .order_by(Environment.created_at.desc())
            .limit(LIST_LIMIT)
        )
        with self._ctx.sessions() as session:
            return records.infos(self._ctx, session, list(session.scalars(query)))

    def find(self, principal: Principal, name: str) -> EnvInfo:
        with self._ctx.sessions() as session:
            env = records.visible_by_name(self._ctx, session, principal, name)
            return records.info(self._ctx, session, env)

    def get(self, principal: Principal, env_id: str) -> EnvInfo:
        with self._ctx.sessions() as session:
            env = records.load(session, env_id)
            if not may_manage(self._ctx, principal, env):
                raise NotAllowed("Only its requester and the team that owns it may do this.")
            return records.info(self._ctx, session, env)

    # -- time to live --------------------------------------------------------------------

    def extend(self, principal: Principal, env_id: str, hours: float, reason: str) -> EnvInfo:
        """Push the expiry `hours` later, capped at the tier's maximum from now."""
        ctx = self._ctx
        if not reason.strip():
            raise FormInvalid({BlockId.REASON: "Say why it needs longer."})
        if len(reason) > 500:
            raise FormInvalid({BlockId.REASON: "At most 500 characters."})
        with ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            self._allowed(principal, env, PolicyAction.EXTEND)
            if env.status != EnvStatus.READY or env.expires_at is None:
                raise Conflict(f"`{env.name}` has no expiry to extend.")
            problem = hours_problem(hours, field="Extend by", maximum=env.max_ttl_hours)
            if problem:
                raise FormInvalid({BlockId.EXTEND_HOURS: problem})
            now = ctx.clock()
            latest = now + timedelta(hours=env.max_ttl_hours or hours)
            env.expires_at = min(max(env.expires_at, now) + timedelta(hours=hours), latest)
            env.warned_hours = None
            ctx.audit.record(
                actor=principal.user_id,
                action=PolicyAction.EXTEND,
                outcome=Outcome.SUCCEEDED,
                inputs={"hours": hours},
                target=f"env:{env.name}",
                detail=reason.strip(),
                session=session,
            )
            return records.info(ctx, session, env)

    def snooze(self, principal: Principal, env_id: str) -> EnvInfo:
        hours = self._ctx.section.snooze_hours
        with self._ctx.sessions() as session:
            maximum = records.load(session, env_id).max_ttl_hours
        return self.extend(principal, env_id, min(hours, maximum or hours), "snoozed")

    # -- destroy ---------------------------------------------------------------------------

    def destroy_plan(self, principal: Principal, name: str) -> tuple[EnvInfo, Plan]:
        """What destroying `name` removes (for Terraform, what its state holds)."""
        ctx = self._ctx
        with ctx.sessions() as session:
            env = records.visible_by_name(ctx, session, principal, name)
            self._allowed(principal, env, PolicyAction.DESTROY)
            found = records.info(ctx, session, env)
            shape = records.shape(ctx, session, env)
        try:
            changes = ctx.drivers[env.driver].plan_destroy(shape)
        except IntegrationError as exc:
            raise InvalidInput(
                f"Planning the destroy failed: {escape(exc.message[:1500])}"
            ) from exc
        request = records.request_of(found)
        plan = Plan(
            operation=Operation.DESTROY,
            request=request,
            changes=tuple(changes),
            policy="Allowed.",
            approvals_needed=0,
            quota_left=None,
            monthly_cost=found.monthly_cost,
            currency=found.currency,
            expires_at=None,
        )
        return found, plan

    def destroy(self, principal: Principal, env_id: str, typed: str) -> EnvInfo:
        """Destroy now; while it is being created, right after; while pending, cancel."""
        ctx = self._ctx
        with ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            self._allowed(principal, env, PolicyAction.DESTROY)
            if typed.strip() != env.name:
                raise FormInvalid({BlockId.CONFIRM_NAME: f"Type {env.name} to confirm."})
            now = ctx.clock()
            if env.status == EnvStatus.PENDING:
                records.release(env, EnvStatus.DENIED, now)
                env.failure = "Cancelled by its requester before it was approved."
            elif env.status == EnvStatus.CREATING:
                env.destroy_requested_by = principal.user_id
            elif env.status == EnvStatus.READY:
                self._start_destroy(session, env, principal.user_id)
            elif env.status != EnvStatus.DESTROYING:
                raise Conflict(f"`{env.name}` is already {env.status.replace('_', ' ')}.")
            ctx.audit.record(
                actor=principal.user_id,
                action=PolicyAction.DESTROY,
                outcome=Outcome.REQUESTED,
                target=f"env:{env.name}",
                session=session,
            )
            return records.info(ctx, session, env)

    def _start_destroy(self, session: Session, env: Environment, by: str) -> None:
        env.status = EnvStatus.DESTROYING
        env.destroy_requested_by = by
        # A new key each time: a destroy that failed may be asked for again; the status
        # change to `destroying` is what makes it happen once.
        records.enqueue(self._ctx, session, JobKind.DESTROY, env.id, records.new_id())

    # -- credentials -----------------------------------------------------------------------

    def reissue(self, principal: Principal, name: str, key: str) -> EnvInfo:
        """New passwords for every resource (a job); the old ones stop working."""
        ctx = self._ctx
        with ctx.sessions.begin() as session:
            env = records.visible_by_name(ctx, session, principal, name)
            self._allowed(principal, env, PolicyAction.CREDENTIALS)
            if env.status != EnvStatus.READY:
                raise Conflict(f"`{env.name}` is {env.status.replace('_', ' ')}, not ready.")
            env.destroy_requested_by = None
            env.progress_channel = None
            env.progress_ts = None
            records.enqueue(ctx, session, JobKind.REISSUE, env.id, key)
            ctx.audit.record(
                actor=principal.user_id,
                action=PolicyAction.CREDENTIALS,
                outcome=Outcome.REQUESTED,
                target=f"env:{env.name}",
                idempotency_key=key,
                session=session,
            )
            return records.info(ctx, session, env)

    def reveal(self, principal: Principal, env_id: str) -> tuple[EnvInfo, dict[str, str]]:
        """The sealed credentials, once, to the requester or the owning team; then deleted."""
        ctx = self._ctx
        with ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            if not may_manage(ctx, principal, env):
                raise NotAllowed("Only its requester and the team that owns it see these.")
            sealed = env.sealed
            if sealed is None:
                raise Conflict(
                    "These credentials were already shown once and are not kept. "
                    f"`/platform env credentials {env.name}` issues new ones."
                )
            env.sealed = None
            ctx.audit.record(
                actor=principal.user_id,
                action=PolicyAction.CREDENTIALS,
                outcome=Outcome.SUCCEEDED,
                target=f"env:{env.name}",
                detail="revealed",
                session=session,
            )
            return records.info(ctx, session, env), self._box.open_mapping(sealed)

    def _allowed(self, principal: Principal, env: Environment, action: str) -> None:
        if not may_manage(self._ctx, principal, env):
            raise NotAllowed("Only its requester and the team that owns it may do this.")
        context = policy_context(env)
        decision = self._ctx.policy.can(principal, action, context)
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        if decision.approval is not None:
            # A destroy the policy wants approved is done by an approver (never the one who
            # asked for the environment): their destroy is the approval.
            approver = self._ctx.policy.may_approve(
                principal, requester_id=env.requested_by, action=action, context=context
            )
            if not approver.allowed:
                names = self._ctx.policy.approvers_named(action, context)
                raise NotAllowed(
                    f"Destroying a {env.tier} environment needs approval: ask {names} to run "
                    f"`/platform env destroy {env.name}`."
                )

    # -- the sweep ---------------------------------------------------------------------------

    def sweep(self) -> Swept:
        """Expire unanswered approvals, warn before expiry, destroy what has expired."""
        now = self._ctx.clock()
        return Swept(
            warned=self._warn(now),
            expired=self._expire(now),
            approvals_expired=self._expire_approvals(now),
        )

    def _warn(self, now: datetime) -> int:
        ctx = self._ctx
        sent = 0
        for hours in ctx.section.warn_before_hours:
            query = select(Environment.id).where(
                Environment.status == EnvStatus.READY,
                Environment.expires_at.is_not(None),
                Environment.expires_at > now,
                Environment.expires_at <= now + timedelta(hours=hours),
                or_(Environment.warned_hours.is_(None), Environment.warned_hours > hours),
            )
            with ctx.sessions() as session:
                due = list(session.scalars(query))
            for env_id in due:
                with ctx.sessions.begin() as session:
                    claimed = session.execute(
                        update(Environment)
                        .where(
                            Environment.id == env_id,
                            or_(
                                Environment.warned_hours.is_(None), Environment.warned_hours > hours
                            ),
                        )
                        .values(warned_hours=hours)
                    )
                    if rowcount(claimed) != 1:
                        continue
                    env = records.load(session, env_id)
                    found = records.info(ctx, session, env)
                left = (found.expires_at - now).total_seconds() / 3600 if found.expires_at else 0
                ctx.notifier.warn_expiry(found, left)
                sent += 1
        return sent

    def _expire(self, now: datetime) -> int:
        ctx = self._ctx
        query = select(Environment.id).where(
            Environment.status == EnvStatus.READY,
            Environment.expires_at.is_not(None),
            Environment.expires_at <= now,
        )
        with ctx.sessions() as session:
            due = list(session.scalars(query))
        for env_id in due:
            with ctx.sessions.begin() as session:
                env = records.load(session, env_id)
                if env.status != EnvStatus.READY:
                    continue
                self._start_destroy(session, env, SYSTEM_ACTOR)
                ctx.audit.record(
                    actor=SYSTEM_ACTOR,
                    action=PolicyAction.DESTROY,
                    outcome=Outcome.EXPIRED,
                    target=f"env:{env.name}",
                    detail="its time to live ended",
                    session=session,
                )
        return len(due)

    def _expire_approvals(self, now: datetime) -> int:
        """Pending past their approval deadline (`expires_at` while pending): nothing made."""
        ctx = self._ctx
        query = select(Environment.id).where(
            Environment.status == EnvStatus.PENDING,
            Environment.expires_at.is_not(None),
            Environment.expires_at <= now,
        )
        with ctx.sessions() as session:
            due = list(session.scalars(query))
        for env_id in due:
            with ctx.sessions.begin() as session:
                env = records.load(session, env_id)
                if env.status != EnvStatus.PENDING:
                    continue
                records.release(env, EnvStatus.EXPIRED, now)
                env.failure = "Not enough approvals came in time; nothing was created."
                ctx.audit.record(
                    actor=SYSTEM_ACTOR,
                    action=PolicyAction.CREATE,
                    outcome=Outcome.EXPIRED,
                    target=f"env:{env.name}",
                    session=session,
                )
                found = records.info(ctx, session, env)
            ctx.notifier.update_approval(found)
            ctx.notifier.tell(
                found.requested_by,
                f"Your environment `{found.name}` was not created: {found.failure}",
            )
        return len(due)

    def put_back(self, env_id: str, secrets: dict[str, str]) -> None:
        """A reveal Slack failed to show: seal the credentials again for the next click."""
        with self._ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            if env.sealed is None:
                env.sealed = self._box.seal_mapping(secrets)
