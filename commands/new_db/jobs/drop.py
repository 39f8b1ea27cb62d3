"""The `db.drop` job: drop the resource on its server, delete its secrets, free its name.

Every provisioner's `drop` is idempotent, so a run resumed after a crash simply drops again.
When the drop fails for good the resource goes back to `active` (it may be partly dropped)
so that a new `drop-db` can finish it, and the people concerned are told.
"""

from __future__ import annotations

from sqlalchemy import delete

from bot.core.audit import SYSTEM_ACTOR, Outcome
from bot.core.jobs import JobContext
from bot.core.mrkdwn import escape
from commands.new_db.jobs.base import JobBase
from commands.new_db.models import DbCredentialDrop, RequestStatus, ResourceStatus
from commands.new_db.service.rows import (
    active_key,
    load_request,
    release_name,
    request_info,
    spec_of,
)


class DropJob(JobBase):
    """Job kind `db.drop`: payload {"request_id": …}; drops the resource and its secrets."""

    def run(self, ctx: JobContext) -> None:
        request_id = str(ctx.payload["request_id"])
        with self._sessions() as session:
            request, resource = load_request(session, request_id)
            if resource.status != ResourceStatus.DROPPING:
                return
            spec = spec_of(resource, self._config)
            vault_path = resource.vault_path
            label = self._config.label(resource.engine)
            info = request_info(session, request, self._config)
        self._ensure_card(info)
        provisioner = self._provisioner(spec.engine)
        self._call(label, "dropping", lambda: provisioner.drop(spec))
        if vault_path and self._secrets is not None:
            store = self._secrets
            self._call(
                "The secrets manager", "deleting the credentials", lambda: store.delete(vault_path)
            )
        now = self._clock()
        with self._sessions.begin() as session:
            request, resource = load_request(session, request_id)
            if resource.status != ResourceStatus.DROPPING:
                return
            session.execute(
                delete(DbCredentialDrop).where(DbCredentialDrop.resource_id == resource.id)
            )
            target = active_key(resource.engine, resource.name)
            release_name(resource, ResourceStatus.DROPPED, now)
            request.status = RequestStatus.COMPLETED
            self._audit.record(
                actor=SYSTEM_ACTOR,
                action=request.action,
                outcome=Outcome.SUCCEEDED,
                inputs={"request": request_id},
                target=target,
                detail="dropped",
                session=session,
            )
            info = request_info(session, request, self._config)
        self._show_outcome(info)
        r = info.resource
        self._tell_all(
            info,
            f"{escape(r.engine_label)} `{r.name}` ({escape(r.tier)}, {escape(r.team)}) "
            "was dropped.",
        )

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        request_id = str(ctx.payload["request_id"])
        with self._sessions.begin() as session:
            request, resource = load_request(session, request_id)
            if resource.status != ResourceStatus.DROPPING:
                return
            # It may be partly dropped; active again so that a new drop-db can finish it.
            resource.status = ResourceStatus.ACTIVE
            request.status = RequestStatus.FAILED
            request.outcome_detail = error_message[:500]
            self._audit.record(
                actor=SYSTEM_ACTOR,
                action=request.action,
                outcome=Outcome.FAILED,
                inputs={"request": request_id},
                target=active_key(resource.engine, resource.name),
                detail=error_message,
                session=session,
            )
            info = request_info(session, request, self._config)
        self._show_outcome(info)
        r = info.resource
        self._tell_all(
            info,
            f"Dropping {escape(r.engine_label)} `{r.name}` failed: {escape(error_message)} "
            "It is still listed as active; try `/platform drop-db` again later.",
        )
