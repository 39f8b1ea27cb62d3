"""What lookups answer with: plain data for the views, no Slack and no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from bot.errors import PlatformError
from bot.mrkdwn import escape
from commands.lookup.read_model import IndexedEntity

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


def catalog_url(template: str | None, entity: IndexedEntity) -> str | None:
    if template is None:
        return None
    return template.format(
        kind=quote(entity.kind, safe=""),
        namespace=quote(entity.namespace, safe=""),
        name=quote(entity.name, safe=""),
    )


_RUNBOOK = ("runbook", "playbook")
_DASHBOARD = ("dashboard", "grafana", "datadog", "kibana")
_DOCS = ("docs", "doc", "documentation", "techdocs", "wiki")
_REPO = ("repository", "repo", "source", "github", "gitlab")


def classify_links(entity: IndexedEntity) -> Links:
    """Sort an entity's links into repository, docs, runbooks, dashboards and the rest."""
    buckets: dict[str, list[tuple[str, str]]] = {
        "repository": [],
        "docs": [],
        "runbooks": [],
        "dashboards": [],
        "other": [],
    }
    slug = entity.annotations.get("github.com/project-slug")
    if slug:
        buckets["repository"].append((slug, f"https://github.com/{quote(slug, safe='/')}"))
    source = entity.annotations.get("backstage.io/source-location", "")
    kind, _, target = source.partition(":")
    if not slug and kind == "url" and target.startswith(("https://", "http://")):
        buckets["repository"].append(("source", target))
    for link in entity.links:
        if not link.url.startswith(("https://", "http://")):
            continue  # only web links are clickable in Slack
        title = link.title or link.url
        words = " ".join(filter(None, (link.type, link.icon, link.title))).lower()
        if any(w in words for w in _RUNBOOK):
            bucket = "runbooks"
        elif any(w in words for w in _DASHBOARD):
            bucket = "dashboards"
        elif any(w in words.split() for w in _DOCS) or "docs" in words:
            bucket = "docs"
        elif any(w in words for w in _REPO):
            bucket = "repository"
        else:
            bucket = "other"
        buckets[bucket].append((title, link.url))
    return Links(**{key: tuple(values) for key, values in buckets.items()})
