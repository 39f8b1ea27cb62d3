"""The read model: the catalog index in memory, as lookups read it.

A `ReadModel` is built once from the index tables and never changed; the service replaces
it whole after a refresh. Entities are kept compact (interned repeated strings, annotations
and links as JSON decoded on demand) so 50,000 of them fit a serving process's budget.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from commands.lookup.service.search_index import SearchIndex
from integrations.protocols import CatalogProblem, EntityLink

# Most entities carry none of the kept annotations; they all share this one empty mapping.
_NO_ANNOTATIONS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class IndexedEntity:
    """An entity as lookups see it; references are full and lowercase."""

    ref: str
    kind: str
    namespace: str
    name: str
    title: str | None
    description: str | None
    lifecycle: str | None
    type: str | None
    owner: str | None
    system: str | None
    tags: tuple[str, ...]
    extras: str | None
    """Annotations and links as compact JSON, decoded when read: a card needs them for one
    entity, and 50,000 entities' worth as objects would cost tens of MB."""
    email: str | None
    display_name: str | None

    @property
    def label(self) -> str:
        return self.title or self.display_name or self.name

    @property
    def annotations(self) -> Mapping[str, str]:
        if self.extras is None:
            return _NO_ANNOTATIONS
        found: dict[str, str] = json.loads(self.extras).get("a") or {}
        return found

    @property
    def links(self) -> tuple[EntityLink, ...]:
        if self.extras is None:
            return ()
        return tuple(
            EntityLink(url=link["url"], title=link.get("title"), icon=link.get("icon"),
                       type=link.get("type"))
            for link in json.loads(self.extras).get("l") or ()
        )  # fmt: skip


def pack_extras(annotations: Mapping[str, str], links: Iterable[Mapping[str, Any]]) -> str | None:
    """The `extras` of an IndexedEntity (None when it has neither)."""
    packed: dict[str, Any] = {}
    if annotations:
        packed["a"] = dict(annotations)
    kept = [{k: v for k, v in link.items() if v is not None} for link in links]
    if kept:
        packed["l"] = kept
    return json.dumps(packed, separators=(",", ":")) if packed else None


@dataclass
class ReadModel:
    """An immutable snapshot of the index for lookups (never mutated after `build`)."""

    generation: int | None
    refreshed_at: datetime | None
    entities: dict[str, IndexedEntity]
    by_name: dict[str, str | tuple[str, ...]]
    by_title: dict[str, str | tuple[str, ...]]
    members: dict[str, tuple[str, ...]]
    search: SearchIndex
    problems: tuple[CatalogProblem, ...] = ()
    _order: tuple[str, ...] = field(default=())

    @classmethod
    def build(
        cls,
        entities: Iterable[IndexedEntity],
        member_pairs: Iterable[tuple[str, str]],
        *,
        generation: int | None,
        refreshed_at: datetime | None,
        problems: Sequence[CatalogProblem] = (),
    ) -> ReadModel:
        by_ref: dict[str, IndexedEntity] = {}
        by_name: defaultdict[str, list[str]] = defaultdict(list)
        by_title: defaultdict[str, list[str]] = defaultdict(list)
        for entity in entities:
            by_ref[entity.ref] = entity
            by_name[entity.name.lower()].append(entity.ref)
            for label in {entity.title, entity.display_name}:
                if label:
                    by_title[label.lower()].append(entity.ref)
        members: defaultdict[str, list[str]] = defaultdict(list)
        for group, user in sorted(member_pairs):
            members[group].append(user)
        order = tuple(by_ref)
        return cls(
            generation=generation,
            refreshed_at=refreshed_at,
            entities=by_ref,
            by_name={k: _compact(v) for k, v in by_name.items()},
            by_title={k: _compact(v) for k, v in by_title.items()},
            members={k: tuple(v) for k, v in members.items()},
            search=SearchIndex([by_ref[ref] for ref in order]),
            problems=tuple(problems),
            _order=order,
        )

    @classmethod
    def empty(cls) -> ReadModel:
        return cls.build([], [], generation=None, refreshed_at=None)

    def named(self, name: str) -> tuple[str, ...]:
        """Refs of the entities with this name (case-insensitive)."""
        return _expand(self.by_name.get(name.lower(), ()))

    def titled(self, title: str) -> tuple[str, ...]:
        """Refs of the entities with this title or display name (case-insensitive)."""
        return _expand(self.by_title.get(title.lower(), ()))

    def entity_at(self, position: int) -> IndexedEntity:
        return self.entities[self._order[position]]


def entity_from_row(
    ref: str,
    kind: str,
    namespace: str,
    name: str,
    title: str | None,
    description: str | None,
    document: dict[str, Any],
) -> IndexedEntity:
    # Kinds, owners, systems and tags repeat across thousands of entities: interning keeps
    # one copy of each.
    lifecycle, spec_type = document.get("lifecycle"), document.get("type")
    owner, system = document.get("owner"), document.get("system")
    return IndexedEntity(
        ref=ref,
        kind=sys.intern(kind),
        namespace=sys.intern(namespace),
        name=name,
        title=title,
        description=description,
        lifecycle=_intern(lifecycle),
        type=_intern(spec_type),
        owner=_intern(owner),
        system=_intern(system),
        tags=tuple(_intern(tag) or "" for tag in document.get("tags") or ()),
        extras=pack_extras(document.get("annotations") or {}, document.get("links") or ()),
        email=(document.get("email") or "").casefold() or None,
        display_name=document.get("display_name"),
    )


def _compact(refs: list[str]) -> str | tuple[str, ...]:
    # Nearly every name is unique: a bare string instead of a 1-tuple saves 50,000 tuples.
    return refs[0] if len(refs) == 1 else tuple(refs)


def _expand(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def release_memory() -> None:
    """Hand the memory the load used only briefly (rows, JSON) back to the OS.

    Without it a serving process's RSS keeps the load's peak for its whole life; glibc's
    malloc_trim returns the freed pages (elsewhere that step is skipped). The surviving
    objects are then frozen out of the cyclic GC: they hold no cycles, and a full
    collection walking 50,000 entities would otherwise stall a lookup for milliseconds.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    gc.freeze()


def _intern(value: str | None) -> str | None:
    return sys.intern(value) if value else None
