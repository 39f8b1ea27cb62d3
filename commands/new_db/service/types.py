"""The feature's vocabulary: steps, the snapshots services hand out, the notifier port.

Nothing here touches the database or Slack; the services, the jobs and the sweeps share it,
and the feature's `notifier.py` implements `Notifier` with Slack messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from integrations.provisioning_protocols import WrappedSecret


class Step(StrEnum):
    """What the provisioning progress message shows, in order."""

    QUEUED = "queued"
    CHECKING = "checking server"
    CREATING_DATABASE = "creating database"
    CREATING_USER = "creating user"
    GRANTING = "granting"
    STORING = "storing credentials"
    READY = "ready"


STEPS = tuple(Step)


@dataclass(frozen=True)
class MessageRef:
    channel: str
    ts: str


@dataclass(frozen=True)
class ResourceInfo:
    id: str
    engine: str
    engine_label: str
    name: str
    tier: str
    team: str
    owner_id: str
    plan: str
    status: str
    created_at: datetime
    expires_at: datetime | None
    vault_path: str | None = None
    monthly_cost: float | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class RequestInfo:
    id: str
    action: str
    status: str
    requester_id: str
    resource: ResourceInfo
    ttl_hours: float | None
    reason: str | None
    approvals_needed: int
    approved_by: tuple[str, ...] = ()
    denied_by: tuple[tuple[str, str | None], ...] = ()
    expires_at: datetime | None = None
    approval_message: MessageRef | None = None
    progress_message: MessageRef | None = None
    outcome_detail: str | None = None


class Notifier(Protocol):
    """Tells people what happened; failures to reach them never undo what happened."""

    def post_request_card(self, request: RequestInfo) -> MessageRef | None:
        """DM the requester the card whose thread carries the progress."""
        ...

    def update_request_card(self, request: RequestInfo) -> None: ...

    def post_approval(self, request: RequestInfo, channel: str) -> MessageRef | None: ...

    def update_approval(self, request: RequestInfo) -> None: ...

    def post_progress(self, request: RequestInfo, step: Step) -> MessageRef | None: ...

    def edit_progress(
        self, ref: MessageRef, request: RequestInfo, step: Step, *, failure: str | None = None
    ) -> None: ...

    def tell(self, user_id: str, text: str, *, thread: MessageRef | None = None) -> None:
        """DM `user_id` (in the thread, when given)."""
        ...

    def deliver_wrapped(
        self, request: RequestInfo, wrapped: WrappedSecret, path: str
    ) -> MessageRef | None:
        """DM the requester the one-time token; None when it could not be posted."""
        ...

    def deliver_reveal(self, request: RequestInfo) -> MessageRef | None:
        """DM the requester the Reveal button; None when it could not be posted."""
        ...

    def mark_revealed(self, offer: MessageRef, resource: ResourceInfo, when: datetime) -> None:
        """Edit the Reveal offer: the button goes, the time of the reveal is shown."""
        ...

    def warn_expiry(self, resource: ResourceInfo, *, hours_left: float) -> None: ...

    def tell_extended(self, resource: ResourceInfo, *, user_id: str) -> None:
        """DM `user_id` the resource's new expiry."""
        ...
