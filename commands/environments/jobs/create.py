"""The `env.create` job: make every resource (a clone copies their data), then hand over.

Resumable: the driver checkpoints per resource, so a run killed half-way is run again by
the job runner and carries on. When the job fails for good, `on_failure` rolls back all the
environment made (never a same-named resource it did not create), frees its name and tells
the requester what failed. A destroy asked for while creating runs right after.
"""

from __future__ import annotations

import json
from datetime import timedelta

from bot.core.audit import SYSTEM_ACTOR, Outcome
from bot.core.jobs import JobContext
from bot.core.mrkdwn import escape
from commands.environments.ids import JobKind
from commands.environments.jobs.base import EnvJob, permanent_unless_transient
from commands.environments.models import EnvStatus
from commands.environments.service import records


class CreateJob(EnvJob):
    """Job kind `env.create`: payload {"environment_id": …}."""

    def run(self, ctx: JobContext) -> None:
        env_id = str(ctx.payload["environment_id"])
        with self._ctx.sessions() as session:
            env = records.load(session, env_id)
            if env.status != EnvStatus.CREATING:
                return  # finished, or rolled back, by an earlier run
            shape = records.shape(self._ctx, session, env)
            driver = self._ctx.drivers[env.driver]
            verb = "Cloning" if env.clone_of else "Creating"
        progress = self._progress(env_id, f"{verb} environment `{shape.name}`…")
        if ctx.is_resume:
            progress("Resuming where the last attempt stopped.")
        with permanent_unless_transient():
            applied = driver.create(shape, progress)
        now = self._ctx.clock()
        with self._ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            if env.status != EnvStatus.CREATING:
                return
            with permanent_unless_transient():
                wrapped = self._hand_over(env, shape, applied)
            env.outputs = json.dumps(applied.outputs)
            env.status = EnvStatus.READY
            env.ready_at = now
            env.progress_channel = env.progress_ts = None
            if env.ttl_hours:
                env.expires_at = now + timedelta(hours=env.ttl_hours)
            then_destroy = env.destroy_requested_by is not None
            if then_destroy:
                env.status = EnvStatus.DESTROYING
                records.enqueue(self._ctx, session, JobKind.DESTROY, env.id, records.new_id())
            self._ctx.audit.record(
                actor=SYSTEM_ACTOR,
                action="env.create",
                outcome=Outcome.SUCCEEDED,
                target=f"env:{env.name}",
                detail="created" if not env.clone_of else "cloned",
                session=session,
            )
            found = records.info(self._ctx, session, env)
        driver.forget_passwords(shape)
        progress(f"Environment `{found.name}` is ready.")
        self._deliver(found, wrapped)
        if then_destroy:
            progress("A destroy was asked for while it was being created: destroying it now.")

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        env_id = str(ctx.payload["environment_id"])
        with self._ctx.sessions() as session:
            env = records.load(session, env_id)
            if env.status != EnvStatus.CREATING:
                return
            shape = records.shape(self._ctx, session, env)
            driver = self._ctx.drivers[env.driver]
        progress = self._progress(env_id, f"Creating environment `{shape.name}`…")
        progress(f"Failed: {escape(error_message)} Rolling back…")
        left = driver.roll_back(shape, progress)
        detail = f"failed: {error_message}"
        if left:
            detail += f" Rolling back left: {'; '.join(left)}; an operator must remove it."
        with self._ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            if env.status != EnvStatus.CREATING:
                return
            records.release(env, EnvStatus.FAILED, self._ctx.clock())
            env.failure = detail[:500]
            env.leftovers = bool(left)
            self._ctx.audit.record(
                actor=SYSTEM_ACTOR,
                action="env.create",
                outcome=Outcome.FAILED,
                target=f"env:{env.name}",
                detail=detail,
                session=session,
            )
        removed = "" if left else " Everything it had created was removed."
        self._ctx.notifier.tell(
            env.requested_by,
            f"Environment `{shape.name}` was not created: {escape(detail)}{removed}",
        )
