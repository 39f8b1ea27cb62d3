"""What the lookup service answers with: plain data for the views, no Slack and no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.errors import PlatformError
from bot.core.mrkdwn import escape
from commands.lookup.service.read_model import IndexedEntity

MAX_QUERY_LENGTH = 200
SERVICE_KINDS = ("component", "api", "resource", "system", "domain")
ONCALL_KINDS = ("component", "api", "resource", "system", "group")


class Ambiguous(PlatformError):
    """A name matches several entities; the user picks one (the views offer a menu)."""

    def __init__(self, query: str, candidates: list[IndexedEntity]) -> None:
        names = ", ".join(f"`{c.ref}`" for c in candidates[:5])
        super().__init__(f"`{escape(query)}` could mean several things: {names}. Pick one.")
        self.query = query
        self.candidates = candidates


@dataclass(frozen=True)
class Person:
    name: str
    slack_user_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Team:
    ref: str
    label: str
    channel: str | None = None
    members: tuple[Person, ...] = ()
    more_members: int = 0
    in_catalog: bool = True


@dataclass(frozen=True)
class Shift:
    person: Person
    start: datetime | None
    end: datetime | None
    level: int = 1


@dataclass(frozen=True)
class OnCall:
    provider: str
    schedule: str | None
    current: tuple[Shift, ...]
    next: tuple[Shift, ...]
    as_of: datetime
    stale: bool = False
    problem: str | None = None
    configured: bool = True
    """False when neither the entity nor its owner has an on-call schedule."""


@dataclass(frozen=True)
class Links:
    repository: tuple[tuple[str, str], ...] = ()
    docs: tuple[tuple[str, str], ...] = ()
    runbooks: tuple[tuple[str, str], ...] = ()
    dashboards: tuple[tuple[str, str], ...] = ()
    other: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Ownership:
    entity: IndexedEntity
    owner: Team | None
    owner_person: Person | None = None


@dataclass(frozen=True)
class OnCallResult:
    entity: IndexedEntity
    team: Team | None
    oncall: OnCall | None
    """None while `pending`: the provider has to be asked (after the ack)."""
    pending: bool = False


@dataclass(frozen=True)
class ServiceCard:
    entity: IndexedEntity
    owner: Team | None
    owner_person: Person | None
    system: str | None
    oncall: OnCall | None
    links: Links
    catalog_url: str | None
    pending: bool = False


@dataclass(frozen=True)
class SearchHit:
    entity: IndexedEntity
    owner_label: str | None


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[SearchHit]
    indexed: int
    filters: str = ""
    """The filters as the search applied them, e.g. `kind:api owner:payments`."""
    total: int = 0
    """How many entities passed, when only filters were given (all of them are listed)."""


@dataclass(frozen=True)
class PagePreview:
    entity: IndexedEntity
    oncall: OnCall | None
    provider: str


@dataclass(frozen=True)
class PageOutcome:
    entity: IndexedEntity
    reference: str
    url: str | None
    provider: str
    notify_user_ids: tuple[str, ...] = ()
    unreachable: tuple[str, ...] = field(default=())
    """People to notify who have no Slack account the bot could find."""
