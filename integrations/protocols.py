"""The interfaces services see; each adapter implements one and has a fake in `fakes.py`.

Services type their collaborators with these protocols, so the adapter that talks to the
real provider is built in exactly one place and everything else can run on a fake. The
provisioning and secrets ports are in `integrations.provisioning_protocols`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A workspace member as the directory knows them."""

    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str | None = None
    is_bot: bool = False
    is_restricted: bool = False
    """A guest (single- or multi-channel); guests get no mutating actions by default."""
    deleted: bool = False


class UserDirectory(Protocol):
    """Who is who in the workspace: users by id or email, and usergroup membership.

    Lookups return None for a user the directory does not know; failures to reach the
    directory raise `ProviderUnavailable`, refusals `ProviderRejected`.
    """

    def user(self, user_id: str) -> DirectoryUser | None: ...

    def user_by_email(self, email: str) -> DirectoryUser | None: ...

    def usergroup_members(self, handle: str) -> list[str]:
        """User ids in the usergroup with this handle; empty for an unknown handle."""
        ...


# --- Service catalog ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntityLink:
    """One of an entity's `metadata.links`."""

    url: str
    title: str | None = None
    icon: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class EntityRelation:
    """A relation the catalog computed, e.g. ("ownedBy", "group:default/payments")."""

    type: str
    target_ref: str


@dataclass(frozen=True, slots=True)
class CatalogEntity:
    """A catalog entity (Backstage's format), reduced to what the bot reads.

    `spec` keeps the kind-specific fields as the catalog sent them; entity references in it
    are in whatever short form the author wrote (`payments`, `group:payments`, …).
    """

    kind: str
    namespace: str
    name: str
    title: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    links: tuple[EntityLink, ...] = ()
    spec: dict[str, Any] = field(default_factory=dict)
    relations: tuple[EntityRelation, ...] = ()
    source: str | None = None
    """Where it came from: a file path and document number, or the catalog's location."""

    @property
    def ref(self) -> str:
        """The full entity reference, lowercased: `component:default/payments-api`."""
        return f"{self.kind}:{self.namespace}/{self.name}".lower()


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    """An entity the provider could not read, and why (shown to admins, never fatal)."""

    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    entities: tuple[CatalogEntity, ...]
    problems: tuple[CatalogProblem, ...] = ()


class CatalogProvider(Protocol):
    """A source of catalog entities; the bot copies them all into its own index.

    `fetch_all` raises `ProviderUnavailable` when the catalog cannot be reached and
    `ProviderRejected` when it refuses (bad token); entities it cannot read are returned as
    `problems` beside the rest.
    """

    name: str

    def fetch_all(self) -> CatalogSnapshot: ...


# --- On-call ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnCallTarget:
    """What to ask an on-call provider about.

    `kind` is one of "service", "escalation_policy", "schedule" (PagerDuty), "schedule"
    (Opsgenie, `id` is the schedule name) or "rotation" (rotation file, `id` is its key).
    """

    kind: str
    id: str


@dataclass(frozen=True, slots=True)
class OnCallPerson:
    name: str
    email: str | None = None
    provider_id: str | None = None
    slack_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class OnCallShift:
    """A person on call; `start`/`end` None means open-ended or unknown to the provider."""

    person: OnCallPerson
    start: datetime | None = None
    end: datetime | None = None
    level: int = 1
    schedule: str | None = None
    """The schedule (or rotation) the shift belongs to, where the provider names one."""


@dataclass(frozen=True, slots=True)
class OnCallStatus:
    """Who is on call now and who is next, as the provider saw it at `as_of`."""

    target: OnCallTarget
    current: tuple[OnCallShift, ...]
    next: tuple[OnCallShift, ...]
    as_of: datetime
    schedule_name: str | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Page the on-call of `target`. `dedup_key` makes a repeated request page only once."""

    target: OnCallTarget
    title: str
    details: str
    dedup_key: str
    requester_email: str | None
    service_name: str


@dataclass(frozen=True, slots=True)
class PageResult:
    """What the provider did. `notify` lists people the bot itself must message (rotation)."""

    reference: str
    url: str | None = None
    notify: tuple[OnCallPerson, ...] = ()


class OnCallProvider(Protocol):
    """An on-call tool: who is on call for a target, and paging them.

    Failures raise `ProviderUnavailable` (down, timeout, 5xx), `ProviderRejected` (4xx) or
    `ProviderNotFound` (no such service/schedule).
    """

    name: str

    def on_call(self, target: OnCallTarget, *, at: datetime) -> OnCallStatus: ...

    def shifts_for(
        self,
        *,
        email: str | None,
        slack_user_id: str | None,
        since: datetime,
        until: datetime,
    ) -> list[OnCallShift]:
        """One person's shifts that overlap [since, until): starting before `until` and
        ending after `since` (one starting exactly at `until` is not in), sorted by start,
        each with its schedule's name. The person is matched by email (case-insensitively);
        the rotation file also matches the Slack id it may list instead. A person the
        provider does not know has no shifts."""
        ...

    def page(self, request: PageRequest) -> PageResult: ...


# --- Messaging ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """Where a message landed: the conversation id (a DM's D… id) and its ts."""

    channel: str
    ts: str


class WorkspaceRoster(Protocol):
    """Whole-workspace listings for audiences: everyone, a channel's or a usergroup's members."""

    def all_users(self) -> list[DirectoryUser]:
        """Every member of the workspace, bots, guests and deactivated accounts included."""
        ...

    def channel_members(self, channel_id: str) -> list[str]: ...

    def usergroup_members(self, handle: str) -> list[str]: ...


class Messenger(Protocol):
    """Posting, editing and uploading into conversations.

    `post` to a user id delivers to the app's DM with that person. Refusals raise
    `ProviderRejected`; `ProviderRateLimited` means the call was not carried out; any other
    `ProviderUnavailable` leaves it unknown whether the message was posted.
    """

    def post(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> PostedMessage: ...

    def update(
        self, channel: str, ts: str, *, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    def open_dm(self, user_id: str) -> str:
        """The id of the app's DM conversation with the user."""
        ...

    def upload(
        self, channel: str, *, filename: str, content: bytes, title: str, comment: str
    ) -> None: ...

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Replace the user's App Home tab with `view` (a `home` view)."""
        ...


class ChartRenderer(Protocol):
    def line_chart(
        self,
        *,
        title: str,
        labels: list[str],
        values: list[float],
        y_label: str,
        y_range: tuple[float, float],
    ) -> bytes:
        """A PNG of `values` over `labels`."""
        ...

    def stacked_bar_chart(
        self,
        *,
        title: str,
        labels: list[str],
        series: list[tuple[str, list[float]]],
        x_label: str,
    ) -> bytes:
        """A PNG of one horizontal bar per label, split into each series' value for it
        (`series` is (name, one value per label)), with a legend of the series."""
        ...
