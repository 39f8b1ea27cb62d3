"""Environments made by the platform's own orchestrator (Kubernetes with Crossplane or Kratix,
Humanitec, GitHub Actions), through `integrations.orchestrators.base.Orchestrator`.

`create` applies and stores the returned handle on the environment's one `orchestrator`
row before it waits, so a process killed while waiting resumes by polling the same run
(`apply` is idempotent for the name, so a crash before the handle was stored is harmless
too). Each new status message goes to the progress thread. A run that is not ready within
the template's timeout fails the job; what it started is then deleted by the roll-back, or
kept when the template says `on_timeout: keep` (an operator looks at it). Destroy asks the
orchestrator to remove everything and waits until it reports it gone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory
from commands.environments.drivers.base import Applied, EnvShape, Progress
from commands.environments.models import EnvResource, ResourceState
from commands.environments.service.types import Change
from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.orchestrators.base import (
    Handle,
    Orchestrator,
    OrchestratorRequest,
    Phase,
    Status,
)
from integrations.orchestrators.waiting import NotInTime, Polling, wait_for

ORCHESTRATOR_KEY = "orchestrator"
"""The one `env_resource` row of an orchestrated environment: its handle and state."""


@dataclass(frozen=True)
class Waiting:
    """How long to wait for an orchestrator, and what to do when it takes longer."""

    poll_seconds: float = 5.0
    timeout_seconds: float = 1800.0
    keep_on_timeout: bool = False


class TimedOut(ProviderRejected):
    """Not ready (or not gone) in time; `keep` says whether the roll-back leaves it."""

    def __init__(self, message: str, *, keep: bool) -> None:
        super().__init__("orchestrator", message)
        self.keep = keep


class OrchestratedDriver:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        orchestrators: Callable[[EnvShape], Orchestrator],
        waiting: Callable[[EnvShape], Waiting],
        requests: Callable[[EnvShape], OrchestratorRequest],
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._orchestrators = orchestrators
        self._waiting = waiting
        self._requests = requests
        self._sleep = sleep
        self._monotonic = monotonic

    def plan_create(self, env: EnvShape) -> list[Change]:
        plan = self._orchestrators(env).plan(self._requests(env))
        changes = [Change(c.action, c.what) for c in plan.changes]
        return changes + [Change("note", note) for note in plan.notes]

    def plan_destroy(self, env: EnvShape) -> list[Change]:
        handle = self._handle(env)
        if handle is None:
            return [Change("destroy", "nothing was started")]
        return [Change("destroy", f"everything {handle.orchestrator} made for `{env.name}`")]

    def create(self, env: EnvShape, progress: Progress) -> Applied:
        orchestrator = self._orchestrators(env)
        handle = self._handle(env)
        if handle is None:
            handle = orchestrator.apply(self._requests(env))
            self._store(env, handle, ResourceState.OWNED)
            progress(f"{orchestrator.name} accepted the request.")
        try:
            self._wait(env, orchestrator, handle, progress, until=Phase.READY)
        except TimedOut as late:
            if late.keep:  # the template asks to leave a slow run for an operator to look at
                self._store(env, handle, ResourceState.KEPT)
            raise
        outputs = orchestrator.outputs(handle)
        self._store(env, handle, ResourceState.READY)
        return Applied(outputs=dict(outputs.values), secrets=dict(outputs.secrets))

    def roll_back(self, env: EnvShape, progress: Progress) -> list[str]:
        handle = self._handle(env)
        if handle is None:
            return []
        if self._state(env) == ResourceState.KEPT:
            return [f"kept in {handle.orchestrator} as the template asks ({handle.id})"]
        try:
            self._remove(env, handle, progress)
        except (ProviderRejected, ProviderUnavailable) as exc:
            return [exc.message]
        return []

    def destroy(self, env: EnvShape, progress: Progress) -> list[str]:
        handle = self._handle(env)
        if handle is not None:
            self._remove(env, handle, progress)
        return [f"everything {handle.orchestrator if handle else 'the orchestrator'} made"]

    def reissue(self, env: EnvShape, progress: Progress) -> Applied:
        raise ProviderRejected(
            "orchestrator",
            "credentials of an orchestrated environment come from the orchestrator: rotate "
            "them there, or destroy and create the environment again",
        )

    def forget_passwords(self, env: EnvShape) -> None:
        """Nothing to forget: the bot generated no password."""

    # -- waiting -----------------------------------------------------------------------------

    def _wait(
        self,
        env: EnvShape,
        orchestrator: Orchestrator,
        handle: Handle,
        progress: Progress,
        *,
        until: Phase,
    ) -> Status:
        waiting = self._waiting(env)
        polling = Polling(
            poll_seconds=waiting.poll_seconds,
            timeout_seconds=waiting.timeout_seconds,
            sleep=self._sleep,
            monotonic=self._monotonic,
        )
        try:
            return wait_for(orchestrator, handle, until, polling, said=progress)
        except NotInTime as late:
            keep = waiting.keep_on_timeout and until is Phase.READY
            raise TimedOut(late.message, keep=keep) from None

    def _remove(self, env: EnvShape, handle: Handle, progress: Progress) -> None:
        orchestrator = self._orchestrators(env)
        orchestrator.destroy(handle)
        self._wait(env, orchestrator, handle, progress, until=Phase.GONE)
        self._store(env, handle, ResourceState.REMOVED)

    # -- the handle's row ------------------------------------------------------------------

    def _row(self, session: Session, env: EnvShape) -> EnvResource:
        query = select(EnvResource).where(
            EnvResource.environment_id == env.id, EnvResource.key == ORCHESTRATOR_KEY
        )
        return session.scalars(query).one()

    def _state(self, env: EnvShape) -> str:
        with self._sessions() as session:
            return self._row(session, env).state

    def _handle(self, env: EnvShape) -> Handle | None:
        with self._sessions() as session:
            stored = self._row(session, env).handle
        if not stored:
            return None
        found = json.loads(stored)
        return Handle(str(found["orchestrator"]), str(found["id"]), dict(found["details"]))

    def _store(self, env: EnvShape, handle: Handle, state: ResourceState) -> None:
        with self._sessions.begin() as session:
            row = self._row(session, env)
            row.handle = json.dumps(
                {
                    "orchestrator": handle.orchestrator,
                    "id": handle.id,
                    "details": dict(handle.details),
                }
            )
            row.state = state
