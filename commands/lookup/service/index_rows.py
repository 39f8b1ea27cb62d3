"""What a refresh writes: each entity as an index row plus its relations, or a problem.

References in `spec` are resolved as Backstage resolves them (`catalog_refs`): in the
namespace of the entity that wrote them, with the field's default kind. Each relation is also
written from the other side. An entity that cannot be written whole is skipped and reported,
never half-written and never allowed to fail the whole refresh: a malformed reference, a
value longer than its column (PostgreSQL refuses those, SQLite would silently keep them), or
a second copy of an entity already in this snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commands.lookup.models import NAME_LENGTH, REF_LENGTH, TYPE_LENGTH
from integrations.catalog_refs import RefInvalid, full_ref, spec_relations
from integrations.protocols import CatalogEntity, CatalogProblem

# Only these annotations are kept in the index: what cards, on-call and links read.
KEPT_ANNOTATIONS = (
    "pagerduty.com/service-id",
    "pagerduty.com/escalation-policy-id",
    "pagerduty.com/schedule-id",
    "opsgenie.com/schedule",
    "opsgenie.com/team",
    "platform-bot/rotation",
    "slack.com/bot-notify",
    "slack.com/user-id",
    "github.com/project-slug",
    "backstage.io/techdocs-ref",
    "backstage.io/source-location",
)
TITLE_LENGTH = 255
SOURCE_LENGTH = 500

Relation = tuple[str, str, str]
StatedRelation = tuple[str, str, str, str]
"""A relation with the entity that states it: (source, type, target, producer)."""


class _DoesNotFit(ValueError):
    pass


@dataclass
class IndexBatch:
    """The rows one refresh writes, and the entities it had to leave out."""

    entities: list[CatalogEntity] = field(default_factory=list)
    relations: set[StatedRelation] = field(default_factory=set)
    problems: list[CatalogProblem] = field(default_factory=list)
    duplicates: int = 0


def prepare(entities: Iterable[CatalogEntity], seen: set[str] | None = None) -> IndexBatch:
    """Entities with their relations, each checked to fit the index whole; `seen` holds the
    references already taken by earlier batches of the same refresh (and gains these)."""
    batch = IndexBatch()
    seen = set() if seen is None else seen
    for entity in entities:
        ref = entity.ref
        if ref in seen:
            batch.duplicates += 1
            batch.problems.append(
                CatalogProblem(ref, f"{ref} came twice from the catalog; the first one is kept")
            )
            continue
        try:
            relations = entity_relations(entity)
        except (RefInvalid, _DoesNotFit) as exc:
            batch.problems.append(CatalogProblem(entity.source or ref, str(exc)))
            continue
        seen.add(ref)
        batch.entities.append(entity)
        batch.relations.update((*relation, ref) for relation in relations)
    return batch


def _fits(what: str, value: str, limit: int, noun: str = "references") -> str:
    if len(value) > limit:
        raise _DoesNotFit(
            f"{what}: the {noun[:-1]} is {len(value):,} characters long; "
            f"{noun} in the index can be at most {limit}"
        )
    return value


def entity_relations(entity: CatalogEntity) -> set[Relation]:
    """The entity's relations both ways; RefInvalid or _DoesNotFit when it cannot be indexed."""
    source = _fits("the entity's own reference", entity.ref, REF_LENGTH)
    _fits("kind", entity.kind, NAME_LENGTH, "kinds")
    _fits("metadata.namespace", entity.namespace, NAME_LENGTH, "namespaces")
    _fits("metadata.name", entity.name, NAME_LENGTH, "names")
    found: set[Relation] = set()
    for relation, target in spec_relations(entity.kind, entity.namespace, entity.spec):
        _fits(f"spec.{relation.field}", target, REF_LENGTH)
        found.add((source, relation.type, target))
        found.add((target, relation.inverse, source))
    for sent in entity.relations:
        _fits(f"relations ({sent.type[:40]})", sent.target_ref, REF_LENGTH)
        _fits("relations", sent.type, TYPE_LENGTH, "relation types")
        found.add((source, sent.type, sent.target_ref))
    return found


def _ref_or_none(entity: CatalogEntity, key: str, default_kind: str) -> str | None:
    value = entity.spec.get(key)
    if not isinstance(value, str) or not value:
        return None
    try:
        return full_ref(value, default_kind=default_kind, default_namespace=entity.namespace)
    except RefInvalid:
        return None  # a field this kind does not define; `prepare` checked the ones it does


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def row(entity: CatalogEntity, now: datetime) -> dict[str, Any]:
    """The `catalog_entity` row of an entity that `prepare` accepted."""
    spec = entity.spec
    raw_profile = spec.get("profile")
    profile: Mapping[str, Any] = raw_profile if isinstance(raw_profile, dict) else {}
    document = {
        "lifecycle": _text(spec.get("lifecycle")),
        "type": _text(spec.get("type")),
        "owner": _ref_or_none(entity, "owner", "group"),
        "system": _ref_or_none(entity, "system", "system"),
        "tags": list(entity.tags),
        "annotations": {k: v for k, v in entity.annotations.items() if k in KEPT_ANNOTATIONS},
        "links": [
            {"url": link.url, "title": link.title, "icon": link.icon, "type": link.type}
            for link in entity.links
        ],
        "email": _text(profile.get("email")),
        "display_name": _text(profile.get("displayName")),
    }
    return {
        "ref": entity.ref,
        "kind": entity.kind,
        "namespace": entity.namespace,
        "name": entity.name,
        "title": entity.title[:TITLE_LENGTH] if entity.title else None,
        "description": entity.description,
        "document": document,
        "source": entity.source[:SOURCE_LENGTH] if entity.source else None,
        "refreshed_at": now,
    }
