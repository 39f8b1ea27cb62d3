"""Approving and denying environments: N distinct approvers, never the requester.

An approver counts once (a unique constraint: a double click or a replayed button cannot
count twice), and the environment leaves `pending_approval` through a conditional UPDATE,
so exactly one click (or the sweep's deadline) decides it and queues its job.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.audit import Outcome
from bot.core.db import rowcount
from bot.core.errors import Conflict, NotAllowed
from bot.core.identity import Principal
from commands.environments.ids import JobKind
from commands.environments.models import EnvApproval, Environment, EnvStatus
from commands.environments.service import records
from commands.environments.service.records import EnvContext, policy_context
from commands.environments.service.types import EnvInfo


class EnvApprovals:
    def __init__(self, ctx: EnvContext) -> None:
        self._ctx = ctx

    def approve(self, principal: Principal, env_id: str) -> EnvInfo:
        ctx = self._ctx
        try:
            with ctx.sessions.begin() as session:
                env = self._pending(principal, env_id)
                session.add(
                    EnvApproval(
                        environment_id=env.id, approver_id=principal.user_id, created_at=ctx.clock()
                    )
                )
                session.flush()
                count = session.scalar(
                    select(func.count()).where(EnvApproval.environment_id == env.id)
                )
                approved = (count or 0) >= env.approvals_needed and rowcount(
                    session.execute(
                        update(Environment)
                        .where(Environment.id == env.id, Environment.status == EnvStatus.PENDING)
                        .values(status=EnvStatus.CREATING, expires_at=None)
                    )
                ) == 1
                if approved:
                    records.enqueue(ctx, session, JobKind.CREATE, env.id, "create")
                ctx.audit.record(
                    actor=principal.user_id,
                    action="env.approve",
                    outcome=Outcome.APPROVED,
                    target=f"env:{env.name}",
                    session=session,
                )
                session.expire_all()
                found = records.info(ctx, session, records.load(session, env.id))
        except IntegrityError:
            raise Conflict("You already approved this environment.") from None
        ctx.notifier.update_approval(found)
        if approved:
            ctx.notifier.tell(
                found.requested_by,
                f"Your environment `{found.name}` was approved; it is being created now.",
            )
        return found

    def deny(self, principal: Principal, env_id: str) -> EnvInfo:
        ctx = self._ctx
        with ctx.sessions.begin() as session:
            env = self._pending(principal, env_id)
            decided = session.execute(
                update(Environment)
                .where(Environment.id == env.id, Environment.status == EnvStatus.PENDING)
                .values(
                    status=EnvStatus.DENIED,
                    live_name=None,
                    failure=f"Denied by <@{principal.user_id}>.",
                )
            )
            if rowcount(decided) != 1:
                raise Conflict("This request was already decided.")
            ctx.audit.record(
                actor=principal.user_id,
                action="env.approve",
                outcome=Outcome.DENIED,
                target=f"env:{env.name}",
                session=session,
            )
            session.expire_all()
            found = records.info(ctx, session, records.load(session, env.id))
        ctx.notifier.update_approval(found)
        ctx.notifier.tell(
            found.requested_by,
            f"Your environment `{found.name}` was denied by <@{principal.user_id}>; "
            "nothing was created.",
        )
        return found

    def _pending(self, principal: Principal, env_id: str) -> Environment:
        ctx = self._ctx
        with ctx.sessions() as session:
            env = records.load(session, env_id)
            session.expunge(env)
        if env.status != EnvStatus.PENDING:
            raise Conflict(f"This request is already {env.status.replace('_', ' ')}.")
        action = ctx.template(env.template).config.action
        if env.clone_of is not None:
            action = "env.clone"
        decision = ctx.policy.may_approve(
            principal, requester_id=env.requested_by, action=action, context=policy_context(env)
        )
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        return env
