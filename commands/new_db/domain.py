"""The feature's vocabulary: names, steps, the snapshots services hand out, the notifier port.

Nothing here touches the database or Slack; `service.py`, the jobs and the sweeps share it,
and `notifier.py` implements `Notifier` with Slack messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from integrations.protocols import WrappedSecret

NAME_MIN = 3
NAME_MAX = 31
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,29}[a-z0-9]$")
_ALLOWED = re.compile(r"[a-z0-9-]", re.ASCII)
# Names that map onto a server's own objects on some engine (PostgreSQL's `postgres` and
# templates, MariaDB's system schemas, Redis's `default` user, RabbitMQ's `guest`), and the
# `pg-` prefix: PostgreSQL reserves role names starting with `pg_`, so `pg-x` would get a
# database and then fail at its user. Refused for every engine so a name is valid everywhere.
RESERVED_NAMES = frozenset(
    {
        "postgres", "template0", "template1", "mysql", "sys", "information-schema",
        "performance-schema", "mariadb", "default", "guest", "root", "admin", "rabbitmq",
    }
)  # fmt: skip
RESERVED_PREFIXES = ("pg-",)


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a resource name, in words a person can act on; None if it can."""
    if not name:
        return "Give the resource a name."
    if len(name) > NAME_MAX:
        return f"At most {NAME_MAX} characters ({len(name)} given)."
    bad = sorted({c for c in name if not _ALLOWED.fullmatch(c.lower())})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        return f"Only lowercase letters, digits and '-' are allowed, not {shown}."
    if any(c.isupper() for c in name):
        return "Use lowercase letters only (e.g. `orders-db`)."
    if not name[0].isalpha():
        return "Start with a letter (a-z), not a digit or '-'."
    if len(name) < NAME_MIN:
        return f"At least {NAME_MIN} characters."
    if name.endswith("-"):
        return "End with a letter or a digit, not '-'."
    if NAME_PATTERN.fullmatch(name) is None:
        return "Use lowercase letters, digits and '-', starting with a letter."
    if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
        return f"`{name}` is reserved by a database server; pick another name."
    return None


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
