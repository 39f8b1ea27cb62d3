"""Starting runs, dry runs, and the clicks that continue them (Continue/Stop, Approve/Deny).

A run is a row plus a job per segment: the job runs steps until the end, a failure, or a
step that waits (a confirmation, or a risky step's approval). The click that ends the wait
moves the row out of its waiting status with a conditional UPDATE (so a double click
continues it once) and queues the next segment's job in the same transaction.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.audit import Outcome
from bot.core.db import insert_ignore, rowcount
from bot.core.errors import Conflict, NotAllowed, NotFound
from bot.core.identity import Principal
from commands.runbooks.ids import JobKind, PolicyAction
from commands.runbooks.loader import Loaded
from commands.runbooks.models import RunbookApproval, RunbookRun, RunStatus
from commands.runbooks.render import Rendered, Value, check_values, render_step
from commands.runbooks.service.dashboard import approval_changed
from commands.runbooks.service.ports import RunbookContext, policy_context
from commands.runbooks.spec import Runbook


@dataclass(frozen=True)
class RunInfo:
    id: int
    runbook: str
    status: RunStatus
    created: bool
    """False when this request had already started the run (a retry or a double submit)."""


def rendered_steps(
    ctx: RunbookContext, loaded: Loaded, values: Mapping[str, Value], runner: str
) -> list[Rendered]:
    secrets = {k: v.get_secret_value() for k, v in ctx.section.secrets.items()}
    return [
        render_step(i, step, values, runner=runner, secrets=secrets, programs=loaded.programs)
        for i, step in enumerate(loaded.runbook.steps)
    ]


def enqueue_segment(ctx: RunbookContext, session: Session, run_id: int, segment: int) -> None:
    ctx.jobs.enqueue(
        kind=JobKind.RUN,
        payload={"run_id": run_id},
        idempotency_key=f"{JobKind.RUN}:{run_id}:{segment}",
        max_attempts=1,
        session=session,
    )


class RunbookRuns:
    def __init__(self, ctx: RunbookContext) -> None:
        self._ctx = ctx

    def visible(self, principal: Principal, service: str | None = None) -> list[Runbook]:
        """The runbooks `principal` may run (of `service` when given), by name."""
        policy = self._ctx.policy
        found = [
            loaded.runbook
            for loaded in self._ctx.runbooks.values()
            if policy.can(principal, loaded.runbook.policy, policy_context(loaded.runbook)).allowed
            and (service is None or loaded.runbook.service == service)
        ]
        return sorted(found, key=lambda runbook: runbook.name)

    def find(self, principal: Principal, name: str) -> Loaded:
        loaded = self._ctx.runbooks.get(name.lower())
        if loaded is None:
            close = difflib.get_close_matches(name.lower(), list(self._ctx.runbooks), n=3)
            raise NotFound(f"There is no runbook `{name[:40]}`.", suggestions=close)
        decision = self._ctx.policy.can(
            principal, loaded.runbook.policy, policy_context(loaded.runbook)
        )
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        return loaded

    def dry_run(
        self, principal: Principal, name: str, raw: Mapping[str, Value | None]
    ) -> list[Rendered]:
        """The steps as they would run with these values; nothing runs (the dry run is audited)."""
        loaded = self.find(principal, name)
        values = check_values(loaded.runbook, raw)
        self._ctx.audit.record(
            actor=principal.user_id,
            action=f"{PolicyAction.RUN}.dry-run",
            outcome=Outcome.SUCCEEDED,
            inputs=values,
            target=f"runbook:{name}",
        )
        return rendered_steps(self._ctx, loaded, values, principal.user_id)

    def start(
        self, principal: Principal, name: str, raw: Mapping[str, Value | None], key: str
    ) -> RunInfo:
        """Start a run once per request `key`; the job does the steps."""
        ctx = self._ctx
        loaded = self.find(principal, name)
        values = check_values(loaded.runbook, raw)
        with ctx.sessions.begin() as session:
            insert = insert_ignore(session, RunbookRun, conflict=["request_key"]).values(
                request_key=key[:255],
                runbook=loaded.runbook.name,
                requested_by=principal.user_id,
                params=values,
                status=RunStatus.RUNNING,
                next_step=0,
                segment=0,
                approvals_needed=0,
                created_at=ctx.clock(),
            )
            new_id = session.execute(insert.returning(RunbookRun.id)).scalar_one_or_none()
            if new_id is None:
                run = session.scalars(
                    select(RunbookRun).where(RunbookRun.request_key == key[:255])
                ).one()
                return RunInfo(run.id, run.runbook, RunStatus(run.status), created=False)
            enqueue_segment(ctx, session, new_id, 0)
            ctx.audit.record(
                actor=principal.user_id,
                action=loaded.runbook.policy,
                outcome=Outcome.REQUESTED,
                inputs=values,
                idempotency_key=key,
                target=f"runbook:{name}#{new_id}",
                session=session,
            )
        return RunInfo(new_id, loaded.runbook.name, RunStatus.RUNNING, created=True)

    # -- a paused run: Continue / Stop (the runner), Approve / Deny (approvers) -----------------

    def decide(self, principal: Principal, run_id: int, *, go: bool) -> RunInfo:
        ctx = self._ctx
        with ctx.sessions.begin() as session:
            run = self._load(session, run_id)
            if run.requested_by != principal.user_id:
                raise NotAllowed("Only the person who started this run can continue or stop it.")
            step_no, thread = run.next_step + 1, _thread(run)
            if not self._leave(session, run, RunStatus.CONFIRM, go=go, skip=1):
                raise Conflict(f"This run is already {run.status.replace('_', ' ')}.")
            ctx.audit.record(
                actor=principal.user_id,
                action=f"{PolicyAction.RUN}.confirm",
                outcome=Outcome.SUCCEEDED if go else Outcome.CANCELLED,
                target=f"runbook:{run.runbook}#{run.id} step {step_no}",
                session=session,
            )
            info = RunInfo(
                run.id, run.runbook, RunStatus.RUNNING if go else RunStatus.STOPPED, created=False
            )
        verdict = "Continuing" if go else "Stopped"
        ctx.notifier.reply(thread, f"{verdict} at step {step_no}, by <@{principal.user_id}>.")
        return info

    def approve(self, principal: Principal, run_id: int, *, approve: bool) -> tuple[RunInfo, bool]:
        """Count `principal`'s approval (or deny); True when this click let the step run."""
        ctx = self._ctx
        try:
            with ctx.sessions.begin() as session:
                run = self._load(session, run_id)
                step_index = run.next_step
                self._may_approve(principal, run)
                moved = False
                if approve:
                    session.add(
                        RunbookApproval(
                            run_id=run.id,
                            step=step_index,
                            approver_id=principal.user_id,
                            created_at=ctx.clock(),
                        )
                    )
                    session.flush()
                    count = session.scalar(
                        select(func.count()).where(
                            RunbookApproval.run_id == run.id, RunbookApproval.step == step_index
                        )
                    )
                    if (count or 0) >= run.approvals_needed:
                        moved = self._leave(session, run, RunStatus.APPROVAL, go=True, skip=0)
                else:
                    moved = self._leave(session, run, RunStatus.APPROVAL, go=False, skip=0)
                    if not moved:
                        raise Conflict("This step was already decided.")
                ctx.audit.record(
                    actor=principal.user_id,
                    action=PolicyAction.APPROVE,
                    outcome=Outcome.APPROVED if approve else Outcome.DENIED,
                    target=f"runbook:{run.runbook}#{run.id} step {step_index + 1}",
                    session=session,
                )
                status = (
                    (RunStatus.RUNNING if approve else RunStatus.STOPPED)
                    if moved
                    else RunStatus.APPROVAL
                )
                info = RunInfo(run.id, run.runbook, status, created=False)
                requester, thread = run.requested_by, _thread(run)
        except IntegrityError:
            raise Conflict("You already approved this step.") from None
        verdict = "approved" if approve else "denied"
        ctx.notifier.reply(thread, f"Step {step_index + 1} {verdict} by <@{principal.user_id}>.")
        approval_changed(ctx, run_id, step_index, also=(principal.user_id,))
        if not approve:
            ctx.notifier.tell(
                requester,
                f"Your runbook run was stopped: <@{principal.user_id}> denied step "
                f"{step_index + 1}.",
            )
        return info, moved

    def _may_approve(self, principal: Principal, run: RunbookRun) -> None:
        if run.status != RunStatus.APPROVAL:
            raise Conflict(f"This run is {run.status.replace('_', ' ')}: nothing to approve.")
        loaded = self._ctx.runbooks.get(run.runbook)
        if loaded is None or run.next_step >= len(loaded.runbook.steps):
            raise Conflict("This runbook is no longer configured.")
        action = loaded.runbook.steps[run.next_step].policy_action or PolicyAction.RISKY
        decision = self._ctx.policy.may_approve(
            principal,
            requester_id=run.requested_by,
            action=action,
            context=policy_context(loaded.runbook),
        )
        if not decision.allowed:
            raise NotAllowed(decision.reason)

    def _leave(
        self, session: Session, run: RunbookRun, waiting: RunStatus, *, go: bool, skip: int
    ) -> bool:
        """Move the run out of `waiting` once: on to its next segment, or stopped."""
        values: dict[str, object] = (
            {
                "status": RunStatus.RUNNING,
                "next_step": run.next_step + skip,
                "segment": run.segment + 1,
            }
            if go
            else {
                "status": RunStatus.STOPPED,
                "finished_at": self._ctx.clock(),
                "failure": "stopped",
            }
        )
        result = session.execute(
            update(RunbookRun)
            .where(RunbookRun.id == run.id, RunbookRun.status == waiting)
            .values(**values)
        )
        if rowcount(result) != 1:
            return False
        if go:
            enqueue_segment(self._ctx, session, run.id, run.segment + 1)
        return True

    def _load(self, session: Session, run_id: int) -> RunbookRun:
        run = session.get(RunbookRun, run_id)
        if run is None:
            raise NotFound("This runbook run no longer exists.")
        return run


def _thread(run: RunbookRun) -> tuple[str, str] | None:
    if run.thread_channel and run.thread_ts:
        return run.thread_channel, run.thread_ts
    return None
