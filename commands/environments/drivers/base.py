"""The driver protocol: plan, create (resumable), roll back, destroy, re-issue.

A driver raises `IntegrationError`s: `ProviderUnavailable` when a server cannot be reached
(the job tries again), `ProviderRejected` when it refused (the job stops and rolls back).
`ResourceFailed` says which of the environment's resources it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from commands.environments.config import TemplateConfig
from commands.environments.service.types import Change
from integrations.errors import IntegrationError, ProviderUnavailable
from integrations.provisioning_protocols import PlanLimits

Progress = Callable[[str], None]
"""One line of progress, in plain words, for the environment's thread."""


@dataclass(frozen=True)
class ResourceShape:
    key: str
    engine: str
    plan: str
    name: str
    label: str
    limits: PlanLimits = field(default_factory=PlanLimits)


@dataclass(frozen=True)
class EnvShape:
    """An environment as a driver sees it: names, template, resources, and a clone's source."""

    id: str
    name: str
    template_key: str
    template: TemplateConfig
    tier: str
    team: str
    inputs: Mapping[str, str]
    resources: tuple[ResourceShape, ...]
    source: EnvShape | None = None


@dataclass
class Applied:
    """What a create or re-issue produced: `outputs` go on the card, `secrets` only to the
    requester's one-time reveal (sealed at rest until then)."""

    outputs: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


class ResourceFailed(IntegrationError):
    """A step on one resource failed; `transient` when trying again may help."""

    def __init__(self, resource: str, step: str, cause: IntegrationError) -> None:
        super().__init__(cause.provider, f"{resource}: {step} failed: {cause.message}")
        self.transient = isinstance(cause, ProviderUnavailable)


class EnvDriver(Protocol):
    def plan_create(self, env: EnvShape) -> list[Change]:
        """What `create` would make (may take seconds: Terraform plans)."""
        ...

    def create(self, env: EnvShape, progress: Progress) -> Applied:
        """Make everything; safe to call again after a crash (resumes)."""
        ...

    def roll_back(self, env: EnvShape, progress: Progress) -> list[str]:
        """Remove whatever a failed create made; returns what could not be removed."""
        ...

    def plan_destroy(self, env: EnvShape) -> list[Change]: ...

    def destroy(self, env: EnvShape, progress: Progress) -> list[str]:
        """Remove everything and verify it is gone; returns what was removed."""
        ...

    def reissue(self, env: EnvShape, progress: Progress) -> Applied:
        """New passwords for every resource; the old ones stop working."""
        ...

    def forget_passwords(self, env: EnvShape) -> None:
        """The hand-off is sealed: drop what a resumed create needed to set the same ones."""
        ...
