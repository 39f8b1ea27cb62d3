"""`/platform catalog` queries: words to rank, and `key:value` filters that narrow them.

Filters are `kind:`, `type:`, `owner:` and `lifecycle:`, case-insensitive; a comma gives
several accepted values (`kind:api,component`), several filters must all hold. `owner:`
takes a team or person name (`owner:payments`, any namespace) or a reference
(`owner:group:default/payments`, `owner:default/payments`). Everything else is words.
Typographic quotes are separators, as a Slack client that "smartens" typed quotes would
otherwise leave them glued to the words.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from commands.lookup.service.read_model import IndexedEntity
from integrations.catalog_refs import RefInvalid, full_ref

FILTER_KEYS = ("kind", "type", "owner", "lifecycle")
FILTER_USAGE = "[kind:K] [type:T] [owner:TEAM] [lifecycle:L]"
# Straight, curly, low, angle and CJK quotation marks.
_QUOTES = str.maketrans(
    dict.fromkeys(
        "\"'\u201c\u201d\u201e\u201f\u2018\u2019\u201a\u201b"
        "\u00ab\u00bb\u2039\u203a\u300c\u300d\u300e\u300f",
        " ",
    )
)


@dataclass(frozen=True)
class SearchQuery:
    text: str
    """The words, as typed (normalised spaces and quotes)."""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def shown_filters(self) -> str:
        return " ".join(f"{key}:{','.join(values)}" for key, values in self.filters.items())

    def matcher(self) -> Callable[[IndexedEntity], bool]:
        """Whether an entity passes every filter."""
        checks = [_check(key, values) for key, values in self.filters.items()]
        return lambda entity: all(check(entity) for check in checks)


def parse_query(raw: str) -> SearchQuery:
    text = unicodedata.normalize("NFKC", raw).translate(_QUOTES)
    words: list[str] = []
    filters: dict[str, list[str]] = {}
    for token in text.split():
        key, colon, value = token.partition(":")
        key = key.casefold()
        if colon and key in FILTER_KEYS:
            accepted = [v.casefold() for v in value.split(",") if v]
            filters.setdefault(key, []).extend(accepted)
        else:
            words.append(token)
    return SearchQuery(
        " ".join(words), {key: tuple(values) for key, values in filters.items() if values}
    )


def _check(key: str, values: tuple[str, ...]) -> Callable[[IndexedEntity], bool]:
    if key == "owner":
        return _owner_check(values)
    accepted = frozenset(values)

    def check(entity: IndexedEntity) -> bool:
        value = getattr(entity, key)
        return value is not None and value.casefold() in accepted

    return check


def _owner_check(values: tuple[str, ...]) -> Callable[[IndexedEntity], bool]:
    refs: set[str] = set()
    names: set[str] = set()
    for value in values:
        if ":" in value or "/" in value:
            try:
                refs.add(full_ref(value, default_kind="group"))
            except RefInvalid:
                continue  # matches no owner
        else:
            names.add(value)

    def check(entity: IndexedEntity) -> bool:
        owner = entity.owner
        return owner is not None and (owner in refs or owner.rpartition("/")[2] in names)

    return check
