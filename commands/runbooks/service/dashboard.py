"""Runbook runs waiting for a risky step's approval, on dashboards (`Core.dashboard`).

The runner sees their run as a pending request (not cancellable: it has started, and an
approver who wants it stopped denies the step); the people the policy lets approve the
step, and who have not, see it with the feature's own Approve and Deny buttons, so a click
runs the same listener with the same checks as on the approval message. One query when no
run waits (the usual case), two when some do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.dashboard import (
    ApprovalItem,
    Button,
    CancelOutcome,
    DashboardItems,
    Mrkdwn,
    RequestItem,
    RequestState,
)
from bot.core.identity import Principal
from bot.core.mrkdwn import escape
from commands.runbooks.ids import ActionId, PolicyAction
from commands.runbooks.models import RunbookApproval, RunbookRun, RunStatus
from commands.runbooks.service.ports import RunbookContext, policy_context

logger = logging.getLogger(__name__)

READ_MAX = 200
"""Waiting runs read: more than anyone could act on from one screen."""
REF_PREFIX = "run-"
_REF = re.compile(r"^run-(\d{1,12})$")


def approval_changed(
    ctx: RunbookContext, run_id: int, step: int, *, also: Collection[str] = ()
) -> None:
    """The dashboards a run's wait at `step` is on are out of date: its runner's, those of
    the approvers the policy names for the step, and `also`. Never raises (called after
    the work)."""
    try:
        with ctx.sessions() as session:
            run = session.get(RunbookRun, run_id)
            requester = run.requested_by if run is not None else None
            runbook = run.runbook if run is not None else ""
        loaded = ctx.runbooks.get(runbook)
        people = {*also, *([requester] if requester else [])}
        if loaded is not None and step < len(loaded.runbook.steps):
            action = loaded.runbook.steps[step].policy_action or PolicyAction.RISKY
            context = policy_context(loaded.runbook)
            people.update(ctx.policy.approver_candidates(action, context, ctx.identity) or ())
        ctx.changed(people)
    except Exception:
        logger.exception("could not tell dashboards about runbook run %d", run_id)


def run_ref(run_id: int) -> str:
    """What people see of a run on the dashboard and in `/platform requests`."""
    return f"{REF_PREFIX}{run_id}"


class RunbookDashboard:
    def __init__(self, ctx: RunbookContext) -> None:
        self._ctx = ctx

    def items_for(self, principal: Principal) -> DashboardItems:
        query = (
            select(RunbookRun)
            .where(RunbookRun.status == RunStatus.APPROVAL)
            .order_by(RunbookRun.created_at, RunbookRun.id)
            .limit(READ_MAX)
        )
        with self._ctx.sessions() as session:
            waiting = list(session.scalars(query))
            votes = self._votes(session, waiting) if waiting else {}
        me = principal.user_id
        mine = [r for r in waiting if r.requested_by == me]
        theirs = [r for r in waiting if r.requested_by != me and me not in votes.get(r.id, ())]
        return DashboardItems(
            requests=[self._request(r, votes.get(r.id, ())) for r in mine],
            approvals=[
                self._approval(r, votes.get(r.id, ())) for r in theirs if self._may(principal, r)
            ],
            pending_approvals=len(waiting),
        )

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        match = _REF.match(ref.strip().lower())
        if match is None:
            return None
        with self._ctx.sessions() as session:
            run = session.get(RunbookRun, int(match.group(1)))
            if run is None or run.requested_by != principal.user_id:
                return None
            status, title = run.status, self._title(run)
        if status != RunStatus.APPROVAL:
            return CancelOutcome(False, f"Runbook run {run_ref(run.id)} is not waiting any more.")
        return CancelOutcome(
            False,
            f"Runbook run {run_ref(run.id)} ({escape(title)}) has already started, so it "
            "cannot be cancelled: it waits for a step's approval, and an approver can deny "
            "that step to stop it.",
        )

    @staticmethod
    def _votes(session: Session, runs: Sequence[RunbookRun]) -> dict[int, tuple[str, ...]]:
        """Who approved the step each run waits at (approvals of earlier steps do not count)."""
        step_of = {run.id: run.next_step for run in runs}
        rows = session.execute(
            select(RunbookApproval.run_id, RunbookApproval.step, RunbookApproval.approver_id).where(
                RunbookApproval.run_id.in_(list(step_of))
            )
        ).all()
        found: dict[int, list[str]] = {}
        for run_id, step, approver in rows:
            if step_of.get(run_id) == step:
                found.setdefault(run_id, []).append(approver)
        return {run_id: tuple(people) for run_id, people in found.items()}

    def _title(self, run: RunbookRun) -> str:
        loaded = self._ctx.runbooks.get(run.runbook)
        return loaded.runbook.title if loaded is not None else run.runbook

    def _step(self, run: RunbookRun) -> tuple[str, str]:
        """(the step's title, the policy action that decides it)."""
        loaded = self._ctx.runbooks.get(run.runbook)
        if loaded is None or run.next_step >= len(loaded.runbook.steps):
            return f"step {run.next_step + 1}", PolicyAction.RISKY
        step = loaded.runbook.steps[run.next_step]
        return step.title(run.next_step), step.policy_action or PolicyAction.RISKY

    def _context(self, run: RunbookRun) -> dict[str, str]:
        loaded = self._ctx.runbooks.get(run.runbook)
        return policy_context(loaded.runbook) if loaded is not None else {"runbook": run.runbook}

    def _what(self, run: RunbookRun) -> str:
        title, _ = self._step(run)
        return f"run step {run.next_step + 1} ({title}) of runbook {self._title(run)}"

    def _may(self, principal: Principal, run: RunbookRun) -> bool:
        _, action = self._step(run)
        verdict = self._ctx.policy.may_approve(
            principal, requester_id=run.requested_by, action=action, context=self._context(run)
        )
        return verdict.allowed

    def _request(self, run: RunbookRun, votes: Sequence[str]) -> RequestItem:
        _, action = self._step(run)
        return RequestItem(
            ref=run_ref(run.id),
            request_id=run_ref(run.id),
            what=self._what(run),
            state=RequestState.PENDING,
            created_at=run.created_at,
            approvals=f"{len(votes)} of {run.approvals_needed} approvals",
            approvers=Mrkdwn(self._ctx.policy.approvers_named(action, self._context(run))),
            cancel_allowed=False,
        )

    def _approval(self, run: RunbookRun, votes: Sequence[str]) -> ApprovalItem:
        return ApprovalItem(
            what=self._what(run),
            requester_id=run.requested_by,
            created_at=run.created_at,
            approvals=f"{len(votes)} of {run.approvals_needed} approvals",
            buttons=(
                Button("Approve", ActionId.APPROVE, str(run.id), "primary"),
                Button("Deny", ActionId.DENY, str(run.id), "danger"),
            ),
        )
