"""The `env.destroy` job: remove every resource, check each is gone, send the receipt.

A failure leaves the environment `ready` (what could not be removed is still there and
still listed) and tells whoever asked; destroying again retries what is left.
"""

from __future__ import annotations

from bot.core.audit import SYSTEM_ACTOR, Outcome
from bot.core.jobs import JobContext
from bot.core.mrkdwn import escape
from commands.environments.jobs.base import EnvJob, permanent_unless_transient
from commands.environments.models import EnvStatus
from commands.environments.service import records


class DestroyJob(EnvJob):
    """Job kind `env.destroy`: payload {"environment_id": …}."""

    def run(self, ctx: JobContext) -> None:
        env_id = str(ctx.payload["environment_id"])
        with self._ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            if env.status != EnvStatus.DESTROYING:
                return
            shape = records.shape(self._ctx, session, env)
            driver = self._ctx.drivers[env.driver]
            if not ctx.is_resume:  # a new thread for the destroy, not the create's
                env.progress_channel = env.progress_ts = None
        progress = self._progress(env_id, f"Destroying environment `{shape.name}`…")
        with self._ctx.sessions() as session:
            path = self._ctx.vault_path(records.load(session, env_id))
        with permanent_unless_transient():
            removed = driver.destroy(shape, progress)
            if path is not None and self._ctx.secrets is not None:
                self._ctx.secrets.delete(path)  # its credentials no longer open anything
                removed.append(f"its credentials in the secrets manager (`{path}`)")
        now = self._ctx.clock()
        with self._ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            if env.status != EnvStatus.DESTROYING:
                return
            records.release(env, EnvStatus.DESTROYED, now)
            env.sealed = None
            self._ctx.audit.record(
                actor=SYSTEM_ACTOR,
                action="env.destroy",
                outcome=Outcome.SUCCEEDED,
                target=f"env:{env.name}",
                detail=f"removed {len(removed)} resource(s)",
                session=session,
            )
            found = records.info(self._ctx, session, env)
        lived = (now - found.created_at).total_seconds() / 3600
        progress(f"Environment `{found.name}` is gone.")
        self._ctx.notifier.receipt(found, removed, lived)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        env_id = str(ctx.payload["environment_id"])
        with self._ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            if env.status != EnvStatus.DESTROYING:
                return
            env.status = EnvStatus.READY
            env.failure = f"destroy failed: {error_message}"[:500]
            asked_by = env.destroy_requested_by
            self._ctx.audit.record(
                actor=SYSTEM_ACTOR,
                action="env.destroy",
                outcome=Outcome.FAILED,
                target=f"env:{env.name}",
                detail=error_message,
                session=session,
            )
            name, requester = env.name, env.requested_by
        tell = asked_by if asked_by and asked_by != SYSTEM_ACTOR else requester
        self._ctx.notifier.tell(
            tell,
            f"Destroying environment `{name}` failed: {escape(error_message)} "
            f"What is left is still listed; `/platform env destroy {name}` tries again.",
        )
