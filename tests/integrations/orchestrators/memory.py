"""An orchestrator in memory for the tests of what drives orchestrators (the drivers' own
tests run against fakes of their products' APIs): each run becomes ready after `polls`
status calls, and gone `polls` calls after its destroy."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from integrations.errors import ProviderRejected
from integrations.orchestrators.base import (
    Handle,
    OrchestratorPlan,
    OrchestratorRequest,
    Outputs,
    Phase,
    PlannedChange,
    Status,
)


@dataclass
class _Run:
    request: OrchestratorRequest
    polls: int = 0
    destroying: int | None = None


@dataclass
class MemoryOrchestrator:
    name: str = "memory"
    polls: int = 2
    fail_with: str | None = None
    """The reason every run fails with, once it has been polled `polls` times."""
    never_ready: bool = False
    refuse: str | None = None
    runs: dict[str, _Run] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, request: OrchestratorRequest) -> OrchestratorPlan:
        if self.refuse:
            raise ProviderRejected(self.name, self.refuse)
        return OrchestratorPlan(
            (PlannedChange("create", f"Database/{request.name}"),), ("a dry run in memory",)
        )

    def apply(self, request: OrchestratorRequest) -> Handle:
        with self._lock:
            if request.name not in self.runs:
                self.applied.append(request.name)
                self.runs[request.name] = _Run(request)
        return Handle(self.name, request.name, {"team": request.team})

    def status(self, handle: Handle) -> Status:
        with self._lock:
            run = self.runs.get(handle.id)
            if run is None:
                return Status(Phase.GONE, "gone")
            if run.destroying is not None:
                run.destroying += 1
                if run.destroying > self.polls:
                    del self.runs[handle.id]
                    return Status(Phase.GONE, "deleted")
                return Status(Phase.PROGRESSING, f"deleting ({run.destroying})")
            run.polls += 1
            if run.polls <= self.polls or self.never_ready:
                return Status(Phase.PROGRESSING, f"Synced, waiting for Ready ({run.polls})")
            if self.fail_with:
                return Status(Phase.FAILED, self.fail_with)
            return Status(Phase.READY, "Ready")

    def outputs(self, handle: Handle) -> Outputs:
        return Outputs(
            values={"host": "db.internal", "port": "5432", "database": handle.id},
            secrets={"username": f"{handle.id}_app", "password": "s3cret-from-orchestrator"},
        )

    def destroy(self, handle: Handle) -> None:
        with self._lock:
            run = self.runs.get(handle.id)
            if run is not None and run.destroying is None:
                run.destroying = 0
