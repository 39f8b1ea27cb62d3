"""The `db.rotate` job: a new password for a running resource, handed over like the first.

The provisioner's `create_user` sets the password of an existing user, so a run resumed
after a crash simply sets a newly generated one again. The new credentials are stored as
provisioning stores them (`JobBase._store_credentials`) and the `db.handoff` job, queued with
the request's completion, DMs the owner their Reveal (or a wrapped token). A failure is
retried with backoff; when the job gives up, the requester is told whether the old password
still works: it does unless the server took the new one (recorded in the job's state).
"""

from __future__ import annotations

from typing import Any

from bot.core.audit import SYSTEM_ACTOR, Outcome
from bot.core.jobs import JobContext, JobQueue, PermanentJobError
from bot.core.mrkdwn import escape
from commands.new_db.jobs.base import JobBase
from commands.new_db.jobs.handoff import enqueue_handoff
from commands.new_db.models import RequestStatus, ResourceStatus
from commands.new_db.service.rows import active_key, load_request, request_info, spec_of
from commands.new_db.service.types import RequestInfo
from commands.resources.credentials import generate_password

OLD_STILL_WORKS = "The password was not changed: the old credentials still work."
OLD_STOPPED = (
    "The password was changed, but the new credentials could not be handed over, so the old "
    "ones no longer work: run `/platform db-credentials {name}` again."
)


class RotateJob(JobBase):
    """Job kind `db.rotate`: payload {"request_id": …}; sets and hands over a new password."""

    def __init__(self, *, jobs: JobQueue, **collaborators: Any) -> None:
        super().__init__(**collaborators)
        self._jobs = jobs

    def run(self, ctx: JobContext) -> None:
        request_id = str(ctx.payload["request_id"])
        with self._sessions() as session:
            request, resource = load_request(session, request_id)
            if request.status != RequestStatus.APPROVED:
                return  # finished by an earlier run
            if resource.status != ResourceStatus.ACTIVE:
                raise PermanentJobError(
                    f"{resource.name} is {resource.status.replace('_', ' ')} now."
                )
            spec = spec_of(resource, self._config)
            info = request_info(session, request, self._config)
        provisioner = self._provisioner(spec.engine)
        label = info.resource.engine_label
        password = generate_password()
        self._call(label, "checking the server", provisioner.check)
        self._call(
            label, "setting the new password", lambda: provisioner.create_user(spec, password)
        )
        ctx.checkpoint(changed=True)
        self._store_credentials(info, provisioner, spec, password)
        self._finish(request_id)

    def _finish(self, request_id: str) -> None:
        with self._sessions.begin() as session:
            request, resource = load_request(session, request_id)
            if request.status != RequestStatus.APPROVED:
                return
            request.status = RequestStatus.COMPLETED
            # With the status: the DM is retried on its own and never undoes the re-issue.
            enqueue_handoff(self._jobs, session, request_id)
            self._audit.record(
                actor=SYSTEM_ACTOR,
                action=request.action,
                outcome=Outcome.SUCCEEDED,
                inputs={"request": request_id},
                target=active_key(resource.engine, resource.name),
                detail="credentials re-issued",
                session=session,
            )

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        request_id = str(ctx.payload["request_id"])
        changed = bool(ctx.state.get("changed"))
        with self._sessions.begin() as session:
            request, resource = load_request(session, request_id)
            if request.status != RequestStatus.APPROVED:
                return
            request.status = RequestStatus.FAILED
            request.outcome_detail = error_message[:500]
            self._audit.record(
                actor=SYSTEM_ACTOR,
                action=request.action,
                outcome=Outcome.FAILED,
                inputs={"request": request_id, "password_changed": changed},
                target=active_key(resource.engine, resource.name),
                detail=error_message,
                session=session,
            )
            info = request_info(session, request, self._config)
        self._tell_failure(info, error_message, changed=changed)

    def _tell_failure(self, info: RequestInfo, error_message: str, *, changed: bool) -> None:
        r = info.resource
        if r.status != ResourceStatus.ACTIVE:
            after = "Nothing was changed."
        else:
            after = OLD_STOPPED.format(name=r.name) if changed else OLD_STILL_WORKS
        self._notifier.tell(
            info.requester_id,
            f"Re-issuing the credentials of {escape(r.engine_label)} `{r.name}` failed: "
            f"{escape(error_message)} {after}",
        )
