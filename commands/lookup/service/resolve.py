"""Which entity typed text names: a reference, a name or a title, checked and bounded.

A reference (`kind:namespace/name` and its short forms) is looked up directly; otherwise the
text is a name or a title, and several matches of the preferred kinds are `Ambiguous`.
"""

from __future__ import annotations

import re

from bot.core.errors import InvalidInput, NotFound, Unavailable
from bot.core.mrkdwn import escape
from commands.lookup.service.catalog_search import search_catalog
from commands.lookup.service.read_model import IndexedEntity, ReadModel
from commands.lookup.service.types import MAX_QUERY_LENGTH, Ambiguous
from integrations.catalog_rules import is_kind, is_namespace, is_object_name

# One character class repeated: linear on any input.
_QUERY_CHARS = re.compile(r"^[\w .:/@+#-]+$")
SUGGESTIONS = 5


def check_query(query: str, *, what: str) -> str:
    """`query` with its spaces normalised; InvalidInput when empty, too long or odd."""
    text = " ".join(query.split())
    if not text:
        raise InvalidInput(f"Give a {what}, e.g. `payments-api`.")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput(
            f"That {what} is {len(text):,} characters long; the limit is {MAX_QUERY_LENGTH}."
        )
    if not _QUERY_CHARS.match(text):
        raise InvalidInput(f"A {what} may use letters, digits, spaces and `-_.:/@+#` only.")
    return text


def find_entity(model: ReadModel, text: str, kinds: tuple[str, ...]) -> IndexedEntity:
    """The one entity `text` (checked by `check_query`) names in `model`.

    NotFound (with suggestions) when nothing matches; Ambiguous when several do.
    """
    if model.generation is None:
        raise Unavailable("The catalog index is empty: it has not been refreshed yet.")
    lowered = text.lower()
    refs = ref_candidates(lowered, kinds)
    for ref in refs:
        if ref in model.entities:
            return model.entities[ref]
    for found in (model.named(lowered), model.titled(lowered)):
        matches = [model.entities[ref] for ref in found]
        if matches:
            return _choose(text, matches, kinds)
    if refs:
        name = refs[0].partition("/")[2]
        raise NotFound(
            f"There is no `{escape(text)}` in the catalog.",
            suggestions=list(model.named(name))[:SUGGESTIONS],
        )
    raise NotFound(
        f"I found nothing called `{escape(text)}` in the catalog.",
        suggestions=[h.entity.name for h in search_catalog(model, text, limit=SUGGESTIONS).hits],
    )


def _choose(query: str, matches: list[IndexedEntity], kinds: tuple[str, ...]) -> IndexedEntity:
    preferred = [m for m in matches if m.kind in kinds] or matches
    if len(preferred) == 1:
        return preferred[0]
    raise Ambiguous(
        query,
        sorted(preferred, key=lambda e: (kinds.index(e.kind) if e.kind in kinds else 99, e.ref)),
    )


def ref_candidates(text: str, kinds: tuple[str, ...]) -> list[str]:
    """The full references `text` can stand for, or [] when it is not a reference.

    Split as `parseEntityRef` splits (`kind:namespace/name`, `kind:name`, `namespace/name`),
    but only a valid reference counts: `@backstage/catalog-model` or `Release: notes` are
    titles, and the caller looks them up as names and titles instead. Without a kind, each
    of `kinds` is tried in order.
    """
    colon, slash = text.find(":"), text.find("/")
    if colon == -1 and slash == -1:
        return []
    if slash != -1 and slash < colon:
        colon = -1
    kind = text[:colon] if colon != -1 else None
    namespace = text[colon + 1 : slash] if slash != -1 else "default"
    name = text[max(colon + 1, slash + 1) :]
    if not (is_namespace(namespace) and is_object_name(name)):
        return []
    if kind is None:
        return [f"{k}:{namespace}/{name}" for k in kinds]
    return [f"{kind}:{namespace}/{name}"] if is_kind(kind) else []
