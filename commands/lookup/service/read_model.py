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

import numpy as np

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
    """Annotations and links as compact JSON with the entity's name written as `NAME_MARK`
    (see `pack_extras`), decoded when read: a card needs them for one entity, and 50,000
    entities' worth as objects would cost tens of MB."""
    email: str | None
    display_name: str | None

    @property
    def label(self) -> str:
        return self.title or self.display_name or self.name

    @property
    def annotations(self) -> Mapping[str, str]:
        if self.extras is None:
            return _NO_ANNOTATIONS
        found: dict[str, str] = self._unpacked().get("a") or {}
        return found

    @property
    def links(self) -> tuple[EntityLink, ...]:
        if self.extras is None:
            return ()
        return tuple(
            EntityLink(url=link["url"], title=link.get("title"), icon=link.get("icon"),
                       type=link.get("type"))
            for link in self._unpacked().get("l") or ()
        )  # fmt: skip

    def _unpacked(self) -> dict[str, Any]:
        assert self.extras is not None
        found: dict[str, Any] = json.loads(self.extras.replace(NAME_MARK, self.name))
        return found


# JSON text never holds a raw NUL (json.dumps escapes it as \u0000), so the mark is
# unambiguous and the replacement exact both ways.
NAME_MARK = "\x00"


def pack_extras(
    annotations: Mapping[str, str], links: Iterable[Mapping[str, Any]], name: str
) -> str | None:
    """The `extras` of the entity called `name` (None when it has neither).

    Links and annotations usually follow a convention with the entity's name in them
    (`acme/NAME`, `https://runbooks.example/NAME`); with the name written as a mark, the
    entities of one convention share one string instead of each keeping its own copy.
    """
    packed: dict[str, Any] = {}
    if annotations:
        packed["a"] = dict(annotations)
    kept = [{k: v for k, v in link.items() if v is not None} for link in links]
    if kept:
        packed["l"] = kept
    if not packed:
        return None
    text = json.dumps(packed, separators=(",", ":"))
    return text.replace(name, NAME_MARK) if name else text


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
        previous: ReadModel | None = None,
        changed: frozenset[str] = frozenset(),
    ) -> ReadModel:
        """The model of `entities`; given the `previous` model and the references of the
        entities `changed` since (new ones included), its search index is updated rather
        than read again from every entity."""
        by_ref = {entity.ref: entity for entity in entities}
        order = tuple(by_ref)
        ordered = list(by_ref.values())
        if previous is None:
            by_name = _names(ordered)
            by_title = _titles(ordered)
            search = SearchIndex(ordered)
        else:
            position = {ref: number for number, ref in enumerate(order)}
            gone = [
                e for e in previous.entities.values() if e.ref in changed or e.ref not in by_ref
            ]
            new = [by_ref[ref] for ref in changed if ref in by_ref]
            by_name = _renamed(previous.by_name, _names(gone), _names(new), position)
            by_title = _renamed(previous.by_title, _titles(gone), _titles(new), position)
            search = _updated(previous, position, ordered, changed)
        members: defaultdict[str, list[str]] = defaultdict(list)
        for group, user in sorted(member_pairs):
            members[group].append(user)
        return cls(
            generation=generation,
            refreshed_at=refreshed_at,
            entities=by_ref,
            by_name=by_name,
            by_title=by_title,
            members={k: tuple(v) for k, v in members.items()},
            search=search,
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


class EntityReader:
    """Builds IndexedEntity objects from index rows, sharing what repeats between them.

    Kinds, owners, systems and tags repeat across thousands of entities: interning keeps one
    copy of each string; entities with the same tags share one tuple, and those whose links
    follow one convention share one `extras` string.
    """

    def __init__(self) -> None:
        self._tags: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._extras: dict[str, str] = {}

    def entity(
        self,
        ref: str,
        kind: str,
        namespace: str,
        name: str,
        title: str | None,
        description: str | None,
        document: dict[str, Any],
    ) -> IndexedEntity:
        tags = tuple(_intern(tag) or "" for tag in document.get("tags") or ())
        extras = pack_extras(document.get("annotations") or {}, document.get("links") or (), name)
        return IndexedEntity(
            ref=ref,
            kind=sys.intern(kind),
            namespace=sys.intern(namespace),
            name=name,
            title=title,
            description=description,
            lifecycle=_intern(document.get("lifecycle")),
            type=_intern(document.get("type")),
            owner=_intern(document.get("owner")),
            system=_intern(document.get("system")),
            tags=self._tags.setdefault(tags, tags),
            extras=extras and self._extras.setdefault(extras, extras),
            email=(document.get("email") or "").casefold() or None,
            display_name=document.get("display_name"),
        )


def _names(entities: Iterable[IndexedEntity]) -> dict[str, str | tuple[str, ...]]:
    """Entity references by lowercase name, in the entities' order."""
    found: dict[str, str | tuple[str, ...]] = {}
    for entity in entities:
        _add(found, _lowered(entity.name), entity.ref)
    return found


def _titles(entities: Iterable[IndexedEntity]) -> dict[str, str | tuple[str, ...]]:
    """Entity references by lowercase title and display name, in the entities' order."""
    found: dict[str, str | tuple[str, ...]] = {}
    for entity in entities:
        for label in {entity.title, entity.display_name}:
            if label:
                _add(found, label.lower(), entity.ref)
    return found


def _add(found: dict[str, str | tuple[str, ...]], key: str, ref: str) -> None:
    # No list per key while building: 50,000 short-lived lists would leave holes in the
    # memory the long-lived keys sit in, which the process keeps.
    known = found.get(key)
    if known is None:
        found[key] = ref
    else:
        found[key] = (known, ref) if isinstance(known, str) else (*known, ref)


def _renamed(
    previous: Mapping[str, str | tuple[str, ...]],
    gone: Mapping[str, str | tuple[str, ...]],
    new: Mapping[str, str | tuple[str, ...]],
    position: Mapping[str, int],
) -> dict[str, str | tuple[str, ...]]:
    """`previous` without the `gone` references and with the `new` ones, each key's
    references in the order of their entities (`position`), as `_names` gives them."""
    updated = dict(previous)
    for key in {*gone, *new}:
        dropped = set(_expand(gone.get(key, ())))
        refs = [ref for ref in _expand(updated.get(key, ())) if ref not in dropped]
        refs = sorted([*refs, *_expand(new.get(key, ()))], key=position.__getitem__)
        if refs:
            updated[key] = _compact(refs)
        else:
            updated.pop(key, None)
    return updated


def _updated(
    previous: ReadModel,
    position: Mapping[str, int],
    ordered: list[IndexedEntity],
    changed: frozenset[str],
) -> SearchIndex:
    moved = np.array(
        [-1 if ref in changed else position.get(ref, -1) for ref in previous._order],
        dtype=np.int64,
    )
    fresh = sorted(position[ref] for ref in changed if ref in position)
    return SearchIndex.updated(previous.search, moved, ordered, fresh)


def _lowered(text: str) -> str:
    # Most names are lowercase already: the key is then the name itself, not a second copy.
    lowered = text.lower()
    return text if lowered == text else lowered


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
