"""One protocol for every orchestrator: plan, apply → handle, status, outputs, destroy.

An orchestrator does its work asynchronously: `apply` starts it and returns a `Handle` (plain
strings, stored by the caller so that another process can follow the same run after a
crash), `status` says where it is, `outputs` reads what it made once it is ready, `destroy`
starts the removal and `status` reports `GONE` once everything is removed. The caller polls
`status`, shows each new `Status.message` as progress, and decides about timeouts.

Every method raises `ProviderUnavailable` when the orchestrator cannot be reached or answers
5xx/429 after the driver's own retries (the caller may try again later), and
`ProviderRejected` when it refuses (401/403/404/409/422 and the like: trying again will not
help); messages are for people and never contain a token or a secret output.
`apply` and `destroy` are idempotent for the same request name: a repeat after a crash finds
the run or object the first call started instead of starting another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True)
class OrchestratorRequest:
    """What to make: an environment (or one new-db resource) described for an orchestrator."""

    name: str
    """The environment's (or resource's) name: 3-31 characters a-z, 0-9 and -, validated."""
    team: str
    tier: str
    template: str
    """The environment template's key, or the engine's name for a new-db resource."""
    parameters: Mapping[str, str] = field(default_factory=dict)
    """The template's variables and the requester's inputs, already validated by the bot."""
    workload: Mapping[str, Any] | None = None
    """A parsed Score document, for orchestrators that deploy workloads (Humanitec)."""


@dataclass(frozen=True)
class PlannedChange:
    action: str
    """create, update, replace or delete."""
    what: str
    """In words or as the orchestrator names it: `Database/orders-db`, `workflow deploy.yml`."""


@dataclass(frozen=True)
class OrchestratorPlan:
    changes: tuple[PlannedChange, ...]
    notes: tuple[str, ...] = ()
    """What the person should know before Confirm ("checked by a server-side dry run")."""


@dataclass(frozen=True)
class Handle:
    """Where a run or an object lives; JSON-serialisable, stored by the caller."""

    orchestrator: str
    id: str
    details: Mapping[str, str] = field(default_factory=dict)


class Phase(StrEnum):
    PROGRESSING = "progressing"
    READY = "ready"
    FAILED = "failed"
    GONE = "gone"
    """Destroyed (or never made): nothing of it is left."""


@dataclass(frozen=True)
class Status:
    phase: Phase
    message: str = ""
    """The latest step in plain words ("Synced, waiting for Ready", "job build: step 3 of 7");
    for FAILED, the reason."""


@dataclass
class Outputs:
    """What a ready run made: `values` go on the card, `secrets` only to the hand-off."""

    values: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


class Orchestrator(Protocol):
    name: str

    def plan(self, request: OrchestratorRequest) -> OrchestratorPlan:
        """What `apply` would do, changing nothing (a dry run where the product has one)."""
        ...

    def apply(self, request: OrchestratorRequest) -> Handle: ...

    def status(self, handle: Handle) -> Status: ...

    def outputs(self, handle: Handle) -> Outputs: ...

    def destroy(self, handle: Handle) -> None:
        """Start removing everything `apply` made; `status` says GONE when it is done."""
        ...
