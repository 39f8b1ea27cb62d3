"""What the services hand to the views and jobs: plain values, no rows, no secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from integrations.provisioning_protocols import WrappedSecret


class Operation(StrEnum):
    CREATE = "create"
    CLONE = "clone"
    DESTROY = "destroy"


@dataclass(frozen=True)
class Change:
    """One line of a plan: what happens to what, in plain words or a Terraform address."""

    action: str
    """create, copy, update, replace or destroy."""
    what: str


@dataclass(frozen=True)
class EnvRequest:
    """What the create (or clone) form asked for, validated."""

    template: str
    name: str
    tier: str
    team: str
    ttl_hours: float | None
    reason: str | None
    inputs: Mapping[str, str] = field(default_factory=dict)
    clone_of: str | None = None
    """The source environment's name, for a clone."""


@dataclass(frozen=True)
class Plan:
    """What Confirm would do, shown before anything is made or removed."""

    operation: Operation
    request: EnvRequest
    changes: tuple[Change, ...]
    policy: str
    """mrkdwn: allowed, or who must approve."""
    approvals_needed: int
    quota_left: int | None
    """Environments the team may still have in this tier after this one; None: no limit."""
    monthly_cost: float | None
    currency: str
    expires_at: datetime | None
    unpriced: tuple[str, ...] = ()
    """Resources without a price, which `monthly_cost` leaves out."""


@dataclass(frozen=True)
class ResourceInfo:
    key: str
    engine: str
    label: str
    """The engine's display name, e.g. "PostgreSQL"."""
    plan: str
    name: str
    state: str


@dataclass(frozen=True)
class EnvInfo:
    """An environment as people see it (card, list, DMs)."""

    id: str
    name: str
    template: str
    driver: str
    tier: str
    team: str
    team_name: str
    requested_by: str
    reason: str | None
    status: str
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    destroyed_at: datetime | None
    max_ttl_hours: float | None
    monthly_cost: float | None
    currency: str
    resources: tuple[ResourceInfo, ...]
    outputs: Mapping[str, str]
    clone_of: str | None
    failure: str | None
    approvals_needed: int
    approvers: tuple[str, ...]
    credentials_waiting: bool
    approval_message: tuple[str, str] | None = None
    """Where the approval card was posted (channel, ts), to update it once decided."""


class Notifier(Protocol):
    """How the services and jobs tell people things (implemented over Slack in notifier.py)."""

    def start_thread(self, env: EnvInfo, text: str) -> tuple[str, str] | None:
        """Post the message whose thread carries an operation's progress: (channel, ts)."""
        ...

    def reply(self, thread: tuple[str, str], text: str) -> None: ...

    def tell(self, user_id: str, text: str) -> None: ...

    def ready(self, env: EnvInfo) -> None:
        """The environment is ready: its card and the Reveal button, to the requester."""
        ...

    def deliver_wrapped(self, env: EnvInfo, wrapped: WrappedSecret, path: str) -> None:
        """The one-time token to the credentials in the secrets manager, to the requester."""
        ...

    def ask_approval(self, env: EnvInfo, channel: str, approvers: str) -> tuple[str, str] | None:
        """Post the approval card; where it was posted."""
        ...

    def update_approval(self, env: EnvInfo) -> None: ...

    def warn_expiry(self, env: EnvInfo, hours_left: float) -> None: ...

    def receipt(self, env: EnvInfo, removed: list[str], lived_hours: float) -> None: ...
