"""The `env.reissue` job: a new password for every resource, handed over by one reveal."""

from __future__ import annotations

from bot.core.audit import SYSTEM_ACTOR, Outcome
from bot.core.jobs import JobContext
from bot.core.mrkdwn import escape
from commands.environments.jobs.base import EnvJob, permanent_unless_transient
from commands.environments.models import EnvStatus
from commands.environments.service import records


class ReissueJob(EnvJob):
    """Job kind `env.reissue`: payload {"environment_id": …}."""

    def run(self, ctx: JobContext) -> None:
        env_id = str(ctx.payload["environment_id"])
        with self._ctx.sessions() as session:
            env = records.load(session, env_id)
            if env.status != EnvStatus.READY:
                return
            shape = records.shape(self._ctx, session, env)
            driver = self._ctx.drivers[env.driver]
        progress = self._progress(env_id, f"Re-issuing the credentials of `{shape.name}`…")
        with permanent_unless_transient():
            applied = driver.reissue(shape, progress)
        with self._ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            with permanent_unless_transient():
                wrapped = self._hand_over(env, shape, applied)
            self._ctx.audit.record(
                actor=SYSTEM_ACTOR,
                action="env.credentials",
                outcome=Outcome.SUCCEEDED,
                target=f"env:{env.name}",
                detail="re-issued; the old passwords no longer work",
                session=session,
            )
            found = records.info(self._ctx, session, env)
        self._deliver(found, wrapped)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        env_id = str(ctx.payload["environment_id"])
        with self._ctx.sessions() as session:
            env = records.load(session, env_id)
            name, requester = env.name, env.requested_by
        self._ctx.notifier.tell(
            requester,
            f"Re-issuing the credentials of `{name}` failed: {escape(error_message)} "
            "Some passwords may have changed: run it again to get working ones.",
        )
