"""The `db.provision` job: durable, resumable, rolled back on failure (drops: drop.py).

Provisioning checkpoints after each step, and every provisioner step is idempotent, so a
process killed mid-way is resumed by another runner from the last step it finished. The
generated password is kept Fernet-encrypted on the resource row until the credentials are
stored, so a resumed run sets the same one. The DM that hands them over is the `db.handoff`
job (handoff.py), queued with the resource's activation: a Slack outage delays it, and
never rolls back a resource that was provisioned. When the job fails for good, `on_failure`
drops whatever this request created (never a same-named resource that existed before it),
records the failure and tells the requester what failed and why.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from bot.core.audit import SYSTEM_ACTOR, Outcome
from bot.core.jobs import JobContext, JobQueue, PermanentJobError
from bot.core.mrkdwn import escape
from commands.new_db.jobs.base import JobBase, safe_error
from commands.new_db.jobs.handoff import enqueue_handoff
from commands.new_db.jobs.progress import ProgressEdits
from commands.new_db.models import DbCredentialDrop, RequestStatus, ResourceStatus
from commands.new_db.service.rows import (
    active_key,
    load_request,
    release_name,
    request_info,
    spec_of,
)
from commands.new_db.service.types import MessageRef, RequestInfo, Step
from commands.resources.credentials import generate_password
from integrations.errors import IntegrationError
from integrations.provisioning_protocols import Provisioner, ResourceSpec

logger = logging.getLogger(__name__)

STEP_ORDER = (
    Step.CHECKING,
    Step.CREATING_DATABASE,
    Step.CREATING_USER,
    Step.GRANTING,
    Step.STORING,
)


class ProvisionJob(JobBase):
    """Job kind `db.provision`: payload {"request_id": …}."""

    # Seconds: step edits of the progress message closer together than this are coalesced.
    progress_interval = 1.0

    def __init__(self, *, jobs: JobQueue, **collaborators: Any) -> None:
        super().__init__(**collaborators)
        self._jobs = jobs

    def run(self, ctx: JobContext) -> None:
        request_id = str(ctx.payload["request_id"])
        info, spec, password = self._prepare(request_id)
        if info.resource.status != ResourceStatus.PROVISIONING:
            return  # finished (or rolled back) by an earlier run
        provisioner = self._provisioner(spec.engine)
        progress, info = self._progress(ctx, info)
        edits = (
            ProgressEdits(self._notifier.edit_progress, progress, interval=self.progress_interval)
            if progress is not None
            else None
        )
        label = info.resource.engine_label
        done = int(ctx.state.get("done", 0))
        try:
            for index, step in enumerate(STEP_ORDER):
                if index < done:
                    continue
                if edits is not None:
                    edits.show(info, step)
                reached: dict[str, Any] = {"done": index + 1}
                if step is Step.CHECKING:
                    reached.update(self._check(ctx, provisioner, spec, label))
                elif step is Step.CREATING_DATABASE:
                    self._call(label, step, lambda: provisioner.create_resource(spec))
                elif step is Step.CREATING_USER:
                    self._call(
                        label, step, lambda: provisioner.create_user(spec, password), password
                    )
                elif step is Step.GRANTING:
                    self._call(label, step, lambda: provisioner.grant(spec))
                else:
                    self._store_credentials(info, provisioner, spec, password)
                ctx.checkpoint(**reached)
        finally:
            if edits is not None:
                edits.close()
        self._finish(request_id, progress)

    def _prepare(self, request_id: str) -> tuple[RequestInfo, ResourceSpec, str]:
        with self._sessions.begin() as session:
            request, resource = load_request(session, request_id)
            if resource.status == ResourceStatus.PROVISIONING:
                if resource.password_ciphertext is None:
                    resource.password_ciphertext = self._box.seal(generate_password())
                password = self._box.open(resource.password_ciphertext)
            else:
                password = ""
            return (
                request_info(session, request, self._config),
                spec_of(resource, self._config),
                password,
            )

    def _progress(
        self, ctx: JobContext, info: RequestInfo
    ) -> tuple[MessageRef | None, RequestInfo]:
        """The progress message (posted on the first run) and the request as now stored."""
        info = self._ensure_card(info)
        stored = ctx.state.get("progress")
        if stored:
            return MessageRef(str(stored[0]), str(stored[1])), info
        ref = self._notifier.post_progress(info, Step.QUEUED)
        if ref is not None:
            ctx.checkpoint(progress=[ref.channel, ref.ts])
        return ref, info

    def _check(
        self, ctx: JobContext, provisioner: Provisioner, spec: ResourceSpec, label: str
    ) -> dict[str, Any]:
        """Check the server and the name; the state to checkpoint with the step's end."""
        self._call(label, "checking the server", provisioner.check)
        if ctx.state.get("owns"):
            return {}
        taken: list[bool] = []
        self._call(label, "checking the name", lambda: taken.append(provisioner.exists(spec)))
        if taken and taken[0]:
            raise PermanentJobError(
                f"{label} already has a resource named {spec.name} that this bot did not "
                "create; it was left alone. Pick another name."
            )
        # From here on, whatever exists under this name is ours to roll back. Saved with the
        # step's own checkpoint, which commits before anything is created.
        return {"owns": True}

    def _finish(self, request_id: str, progress: MessageRef | None) -> None:
        now = self._clock()
        with self._sessions.begin() as session:
            request, resource = load_request(session, request_id)
            if resource.status != ResourceStatus.PROVISIONING:
                return
            resource.status = ResourceStatus.ACTIVE
            resource.ready_at = now
            resource.password_ciphertext = None
            if request.ttl_hours:
                resource.expires_at = now + timedelta(hours=request.ttl_hours)
            request.status = RequestStatus.COMPLETED
            # With the status: the DM is retried on its own and never rolls this back.
            enqueue_handoff(self._jobs, session, request_id)
            self._audit.record(
                actor=SYSTEM_ACTOR,
                action=request.action,
                outcome=Outcome.SUCCEEDED,
                inputs={"request": request_id, "plan": resource.plan},
                target=active_key(resource.engine, resource.name),
                detail="provisioned",
                session=session,
            )
            info = request_info(session, request, self._config)
        if progress is not None:
            self._notifier.edit_progress(progress, info, Step.READY)
        self._show_outcome(info)
        # The result thread's root is the card; the progress message is a reply inside it.
        root = info.progress_message or progress
        if root is not None and self._feedback is not None:
            # One question in the result thread; the survey feature rate-limits it per person.
            self._feedback.request(
                user_id=info.requester_id,
                action=info.action,
                channel=root.channel,
                thread_ts=root.ts,
            )

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        request_id = str(ctx.payload["request_id"])
        with self._sessions() as session:
            _, resource = load_request(session, request_id)
            spec = spec_of(resource, self._config)
            status = resource.status
            vault_path = resource.vault_path
        if status != ResourceStatus.PROVISIONING:
            return
        done = int(ctx.state.get("done", 0))
        failed_step = STEP_ORDER[min(done, len(STEP_ORDER) - 1)]
        leftovers = self._roll_back(ctx, spec, vault_path)
        now = self._clock()
        detail = f"failed while {failed_step}: {error_message}"
        if leftovers:
            detail += f" Rolling back also failed ({leftovers}); an operator must clean up."
        with self._sessions.begin() as session:
            request, resource = load_request(session, request_id)
            if resource.status != ResourceStatus.PROVISIONING:
                return
            session.execute(
                delete(DbCredentialDrop).where(DbCredentialDrop.resource_id == resource.id)
            )
            release_name(resource, ResourceStatus.FAILED, now)
            request.status = RequestStatus.FAILED
            request.outcome_detail = detail[:500]
            self._audit.record(
                actor=SYSTEM_ACTOR,
                action=request.action,
                outcome=Outcome.FAILED,
                inputs={"request": request_id, "step": str(failed_step)},
                target=active_key(resource.engine, resource.name),
                detail=detail,
                session=session,
            )
            info = request_info(session, request, self._config)
        stored = ctx.state.get("progress")
        if stored:
            self._notifier.edit_progress(
                MessageRef(str(stored[0]), str(stored[1])), info, failed_step, failure=detail
            )
        self._show_outcome(info)
        removed = "" if leftovers else " Everything it had created was removed."
        self._notifier.tell(
            info.requester_id,
            f"Provisioning {escape(info.resource.engine_label)} `{info.resource.name}` "
            f"{escape(detail)}{removed}",
            thread=info.progress_message,
        )

    def _roll_back(self, ctx: JobContext, spec: ResourceSpec, vault_path: str | None) -> str:
        problems = []
        provisioner = self._provisioners.get(spec.engine)
        if ctx.state.get("owns") and provisioner is not None:
            try:
                provisioner.drop(spec)
            except IntegrationError as exc:
                logger.warning(
                    "rollback of %s %s failed: %s", spec.engine, spec.name, safe_error(exc)
                )
                problems.append(f"dropping: {safe_error(exc)}")
        if vault_path and self._secrets is not None:
            try:
                self._secrets.delete(vault_path)
            except IntegrationError as exc:
                problems.append(f"deleting the secret: {safe_error(exc)}")
        return "; ".join(problems)
