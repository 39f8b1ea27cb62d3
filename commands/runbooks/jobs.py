"""The run job: a segment of a run, from its next step to the end, a failure or a wait.

After each step the run row's `next_step` and the job's checkpoint move on, so a crash
resumes at the step it was in (a step cut off by the crash runs again: HTTP and command
steps should be safe to repeat, as the README says). A step the policy refuses, a step
that fails and a denied approval each stop the run with the reason in the thread. Every
step is audited with its outcome; outputs are redacted (bot.core.redaction plus the secret
values the step used) and cut to `runbooks.output_chars` before they are shown or stored.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from bot.core.audit import Outcome
from bot.core.errors import PlatformError
from bot.core.jobs import JobContext
from bot.core.mrkdwn import ELLIPSIS, escape
from bot.core.redaction import REDACTED, scrub_text
from commands.runbooks.ids import PolicyAction
from commands.runbooks.models import RunbookApproval, RunbookRun, RunStatus
from commands.runbooks.render import Rendered
from commands.runbooks.service.dashboard import approval_changed
from commands.runbooks.service.ports import RunbookContext, StepResult, Thread, policy_context
from commands.runbooks.service.runs import rendered_steps
from commands.runbooks.spec import StepKind

logger = logging.getLogger(__name__)


def clean_output(text: str, secrets: tuple[str, ...], limit: int) -> str:
    """`text` with secrets masked, cut to `limit` characters (masking first: a cut secret
    would no longer be recognised)."""
    cleaned = scrub_text(text)
    for secret in secrets:
        if secret:
            cleaned = cleaned.replace(secret, REDACTED)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + ELLIPSIS


class RunJob:
    def __init__(self, ctx: RunbookContext) -> None:
        self._ctx = ctx

    def run(self, job: JobContext) -> None:
        ctx = self._ctx
        run_id = int(job.payload["run_id"])
        with ctx.sessions() as session:
            run = session.get(RunbookRun, run_id)
            if run is None or run.status != RunStatus.RUNNING:
                return
            session.expunge(run)
        loaded = ctx.runbooks.get(run.runbook)
        if loaded is None:
            self._finish(
                run, None, RunStatus.FAILED, f"The runbook {run.runbook} is no longer configured."
            )
            return
        thread = self._thread(run, loaded.runbook.title)
        steps = rendered_steps(ctx, loaded, run.params, run.requested_by)
        index = max(run.next_step, int(job.state.get("next_step", 0)))
        while index < len(steps):
            step = steps[index]
            if not self._may_run(run, step, thread):
                return
            if step.kind is StepKind.CONFIRM:
                self._wait(run, index, RunStatus.CONFIRM)
                ctx.notifier.ask_confirmation(thread, run.id, step)
                return
            if not self._do(run, step, thread):
                return
            index += 1
            self._advance(run.id, index)
            job.checkpoint(next_step=index)
        self._finish(run, thread, RunStatus.SUCCEEDED, None)

    def on_failure(self, job: JobContext, error_message: str) -> None:
        with self._ctx.sessions() as session:
            run = session.get(RunbookRun, int(job.payload["run_id"]))
            if run is None:
                return
            session.expunge(run)
        thread = (
            (run.thread_channel, run.thread_ts) if run.thread_channel and run.thread_ts else None
        )
        self._finish(
            run, thread, RunStatus.FAILED, "The run stopped on an internal error; see the logs."
        )

    # -- one step ----------------------------------------------------------------------------

    def _may_run(self, run: RunbookRun, step: Rendered, thread: Thread | None) -> bool:
        """False when the policy refuses a risky step or it waits for approval."""
        ctx = self._ctx
        if step.action is None:
            return True
        loaded = ctx.runbooks[run.runbook]
        context = policy_context(loaded.runbook)
        runner = ctx.identity.principal(run.requested_by)
        decision = ctx.policy.can(runner, step.action, context)
        if not decision.allowed:
            self._audit(run, step, Outcome.REJECTED, decision.reason)
            self._finish(
                run,
                thread,
                RunStatus.STOPPED,
                f"Step {step.index + 1} ({escape(step.title)}) was refused: {decision.reason}",
            )
            return False
        if decision.approval is None or self._approved(run.id, step.index, decision.approval.count):
            return True
        self._wait(run, step.index, RunStatus.APPROVAL, approvals=decision.approval.count)
        self._audit(run, step, Outcome.REQUESTED, "waiting for approval")
        channel = (
            decision.approval.channel
            or ctx.team_channels.get(loaded.runbook.owner)
            or run.requested_by
        )
        approvers = ctx.policy.approvers_named(step.action, context)
        ctx.notifier.ask_approval(
            channel, run.id, loaded.runbook.title, run.requested_by, step, approvers
        )
        approval_changed(ctx, run.id, step.index)
        ctx.notifier.reply(
            thread,
            f"Step {step.index + 1} ({escape(step.title)}) waits for approval by {approvers}.",
        )
        return False

    def _do(self, run: RunbookRun, step: Rendered, thread: Thread | None) -> bool:
        ctx = self._ctx
        ctx.notifier.reply(thread, f"Step {step.index + 1}: {escape(step.title)}…")
        result = self._execute(step, run.requested_by)
        output = clean_output(result.output, step.secrets, ctx.section.output_chars)
        self._audit(
            run,
            step,
            Outcome.SUCCEEDED if result.ok else Outcome.FAILED,
            f"{result.summary}\n{output}",
        )
        shown = f"\n```{escape(output)}```" if output.strip() else ""
        title = escape(step.title)
        if not result.ok:
            reason = f"Step {step.index + 1} ({title}) failed: {result.summary}.{shown}"
            self._finish(run, thread, RunStatus.FAILED, reason)
            return False
        ctx.notifier.reply(thread, f"Step {step.index + 1} done: {result.summary}.{shown}")
        return True

    def _call(self, step: Rendered, runner: str) -> StepResult:
        """The bot action as the runner: its feature's checks and policy decide, and its
        refusal (not found, not allowed, a bad value, a conflict) is the step's failure."""
        try:
            done = self._ctx.actions.call(
                step.bot_action, self._ctx.identity.principal(runner), step.args
            )
        except PlatformError as error:
            return StepResult(False, error.message.rstrip("."))
        return StepResult(True, escape(done))

    def _execute(self, step: Rendered, runner: str) -> StepResult:
        ctx = self._ctx
        if step.kind is StepKind.HTTP:
            return ctx.executor.http(step, timeout=step.timeout or ctx.section.http.timeout_seconds)
        if step.kind is StepKind.COMMAND:
            return ctx.executor.command(
                step, timeout=step.timeout or ctx.section.command_timeout_seconds
            )
        if step.kind is StepKind.BOT:
            return self._call(step, runner)
        refused = ctx.notifier.post(step.channel, step.text)
        return (
            StepResult(False, f"Slack refused the message: {refused}")
            if refused
            else StepResult(True, f"posted to {step.channel}")
        )

    # -- the run row -------------------------------------------------------------------------

    def _thread(self, run: RunbookRun, title: str) -> Thread | None:
        if run.thread_channel and run.thread_ts:
            return run.thread_channel, run.thread_ts
        thread = self._ctx.notifier.start_thread(
            run.requested_by, f"Running runbook *{escape(title)}* (run {run.id})"
        )
        if thread is not None:
            with self._ctx.sessions.begin() as session:
                row = session.get(RunbookRun, run.id)
                if row is not None:
                    row.thread_channel, row.thread_ts = thread
        return thread

    def _approved(self, run_id: int, step: int, needed: int) -> bool:
        with self._ctx.sessions() as session:
            count = session.scalar(
                select(func.count()).where(
                    RunbookApproval.run_id == run_id, RunbookApproval.step == step
                )
            )
        return (count or 0) >= needed

    def _advance(self, run_id: int, next_step: int) -> None:
        with self._ctx.sessions.begin() as session:
            row = session.get(RunbookRun, run_id)
            if row is not None:
                row.next_step = next_step

    def _wait(self, run: RunbookRun, step: int, status: RunStatus, approvals: int = 0) -> None:
        with self._ctx.sessions.begin() as session:
            row = session.get(RunbookRun, run.id)
            if row is not None:
                row.status, row.next_step, row.approvals_needed = status, step, approvals

    def _finish(
        self, run: RunbookRun, thread: Thread | None, status: RunStatus, failure: str | None
    ) -> None:
        ctx = self._ctx
        with ctx.sessions.begin() as session:
            row = session.get(RunbookRun, run.id)
            if row is not None:
                row.status, row.finished_at = status, ctx.clock()
                row.failure = failure[:500] if failure else None
            ctx.audit.record(
                actor=run.requested_by,
                action=f"{PolicyAction.RUN}.finish",
                outcome=Outcome.SUCCEEDED if status is RunStatus.SUCCEEDED else Outcome.FAILED,
                target=f"runbook:{run.runbook}#{run.id}",
                detail=failure or status.value,
                session=session,
            )
        text = f"Runbook run {run.id} finished: every step done." if failure is None else failure
        ctx.notifier.reply(thread, text)
        if thread is None:
            ctx.notifier.tell(run.requested_by, text)

    def _audit(self, run: RunbookRun, step: Rendered, outcome: Outcome, detail: str) -> None:
        self._ctx.audit.record(
            actor=run.requested_by,
            action=f"{PolicyAction.RUN}.step",
            outcome=outcome,
            inputs={"step": step.index + 1, "kind": step.kind.value, "title": step.title},
            target=f"runbook:{run.runbook}#{run.id} step {step.index + 1}",
            detail=detail,
        )
