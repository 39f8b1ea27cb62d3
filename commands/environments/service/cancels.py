"""`/platform cancel ID` and the dashboard's Cancel for environments.

Only the requester cancels, and only what has not started: an environment waiting for its
approvals, or one whose create job no worker has picked up yet. Creation that has started is
not interrupted; the person is told to destroy the environment once it is ready. The status
changes through a conditional UPDATE in the same transaction as the job's cancel, so of a
cancel racing an approval (or a worker claiming the job) exactly one wins.
"""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.core.audit import Outcome
from bot.core.dashboard import SHORT_REF_LENGTH, CancelOutcome
from bot.core.db import rowcount
from bot.core.identity import Principal
from commands.environments.ids import JobKind
from commands.environments.models import Environment, EnvStatus
from commands.environments.service import records
from commands.environments.service.records import EnvContext

REF_PATTERN = re.compile(rf"[0-9a-f]{{{SHORT_REF_LENGTH},32}}")
CANCELLED = "Cancelled by its requester; nothing was created."
_CLOSED = {
    EnvStatus.CANCELLED: "was already cancelled",
    EnvStatus.READY: "is already ready: destroy it with `/platform env destroy {name}`",
    EnvStatus.DESTROYING: "is being destroyed",
    EnvStatus.DESTROYED: "was destroyed",
    EnvStatus.FAILED: "already failed; nothing is left to cancel",
    EnvStatus.DENIED: "was denied, so nothing was created",
    EnvStatus.EXPIRED: "expired without enough approvals, so nothing was created",
}


class _Refused(Exception):
    """Raised inside the cancel's transaction so that nothing of it is kept."""


def create_job_key(env_id: str) -> str:
    """The idempotency key `EnvRequests` and `EnvApprovals` queue a create under."""
    return f"{JobKind.CREATE}:{env_id}:create"


class EnvCancels:
    def __init__(self, ctx: EnvContext) -> None:
        self._ctx = ctx

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        """Cancel `principal`'s environment request `ref`; None when they have none by it."""
        ref = ref.strip().lower()
        if REF_PATTERN.fullmatch(ref) is None:
            return None
        ctx = self._ctx
        try:
            with ctx.sessions.begin() as session:
                found = session.scalars(
                    select(Environment)
                    .where(
                        Environment.requested_by == principal.user_id,
                        Environment.id.startswith(ref),
                    )
                    .limit(2)
                ).all()
                if len(found) != 1:
                    return None if not found else CancelOutcome(False, _ambiguous(ref))
                self._cancel_in(session, principal, found[0])
                session.flush()
                info = records.info(ctx, session, found[0])
        except _Refused as refused:
            return CancelOutcome(False, str(refused))
        ctx.notifier.update_approval(info)
        return CancelOutcome(
            True,
            f"Cancelled environment `{info.name}`; nothing was created. "
            "The approvers' message says so.",
            notify=frozenset({info.requested_by, *info.approvers}),
        )

    def _cancel_in(self, session: Session, principal: Principal, env: Environment) -> None:
        status = EnvStatus(env.status)
        if status in _CLOSED:
            raise _Refused(f"`{env.name}` {_CLOSED[status].format(name=env.name)}.")
        jobs = self._ctx.jobs
        if status is EnvStatus.CREATING and not jobs.cancel_unstarted(
            create_job_key(env.id), session=session
        ):
            raise _Refused(
                f"`{env.name}` cannot be cancelled: its creation has started. Once it is "
                f"ready, destroy it with `/platform env destroy {env.name}`."
            )
        won = session.execute(
            update(Environment)
            .where(Environment.id == env.id, Environment.status == status)
            .values(status=EnvStatus.CANCELLED, live_name=None, failure=CANCELLED, expires_at=None)
            .execution_options(synchronize_session=False)
        )
        if rowcount(won) != 1:
            raise _Refused(
                f"`{env.name}` was decided a moment ago; `/platform requests` shows it now."
            )
        session.expire(env)
        self._ctx.audit.record(
            actor=principal.user_id,
            action="env.cancel",
            outcome=Outcome.CANCELLED,
            inputs={"environment": env.id, "was": status.value},
            target=f"env:{env.name}",
            session=session,
        )


def _ambiguous(ref: str) -> str:
    return f"More than one of your environments starts with `{ref}`: give more of its id."
