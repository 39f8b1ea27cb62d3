"""`/platform catalog QUERY`: exact names first, then ranked matches, narrowed by filters."""

from __future__ import annotations

from bot.core.errors import InvalidInput
from commands.lookup.service.read_model import IndexedEntity, ReadModel
from commands.lookup.service.search_query import parse_query
from commands.lookup.service.types import MAX_QUERY_LENGTH, SearchHit, SearchResult


def search_catalog(model: ReadModel, query: str, *, limit: int) -> SearchResult:
    """The best `limit` matches for the words of `query` that pass its filters.

    With filters and no words, every entity passing them, by name. InvalidInput when there is
    nothing to look for or the query is too long.
    """
    raw = " ".join(query.split())
    if len(raw) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            f"That search is {len(raw):,} characters long; the limit is {MAX_QUERY_LENGTH}."
        )
    parsed = parse_query(raw)
    if not parsed.text and not parsed.filters:
        raise InvalidInput("Give a search, e.g. `payments` or `payments kind:api`.")
    keep = parsed.matcher()
    if not parsed.text:
        passing = sorted(
            (e for e in model.entities.values() if keep(e)), key=lambda e: (e.name, e.ref)
        )
        return _result(model, parsed.text, parsed.shown_filters, passing[:limit], len(passing))
    # Whatever is called exactly that comes first; ranked matches follow.
    exact = [*model.named(parsed.text), *model.titled(parsed.text)]
    ranked = model.search.search(
        parsed.text, limit=limit, allowed=lambda p: keep(model.entity_at(p))
    )
    refs = [ref for ref in exact if keep(model.entities[ref])]
    refs += [model.entity_at(position).ref for _, position in ranked]
    found = [model.entities[ref] for ref in list(dict.fromkeys(refs))[:limit]]
    return _result(model, parsed.text, parsed.shown_filters, found, None)


def _result(
    model: ReadModel, words: str, filters: str, found: list[IndexedEntity], total: int | None
) -> SearchResult:
    hits = []
    for entity in found:
        owner = model.entities.get(entity.owner) if entity.owner else None
        label = owner.label if owner else entity.owner.rpartition("/")[2] if entity.owner else None
        hits.append(SearchHit(entity, label))
    return SearchResult(
        query=words,
        hits=hits,
        indexed=len(model.entities),
        filters=filters,
        total=len(hits) if total is None else total,
    )
