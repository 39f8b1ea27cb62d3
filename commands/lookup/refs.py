"""When typed text is an entity reference, and which entities it can name."""

from __future__ import annotations

from integrations.catalog_rules import is_kind, is_namespace, is_object_name


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
