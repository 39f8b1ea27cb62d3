"""Where an entity's links lead: its catalog page, and its links sorted by what they are."""

from __future__ import annotations

from urllib.parse import quote

from commands.lookup.service.read_model import IndexedEntity
from commands.lookup.service.types import Links


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
