"""The search index's scoring, at its edges: one count per word at its best field, the bonus
for matching every word, ties in index order, the filter applied to the ranked matches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from commands.lookup.service.search_index import FIELD_WEIGHT, NAME, PREFIX, SearchIndex


@dataclass(frozen=True)
class Doc:
    name: str
    title: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    type: str | None = None
    lifecycle: str | None = None


ALL_WORDS_BONUS = 1.5


def test_a_word_in_several_fields_counts_once_at_its_best_field() -> None:
    index = SearchIndex([Doc("payments", description="payments payments", tags=("payments",))])

    assert index.search("payments") == [(FIELD_WEIGHT[NAME] * ALL_WORDS_BONUS, 0)]


def test_matching_every_word_earns_the_bonus_and_ranks_first() -> None:
    index = SearchIndex(
        [
            Doc("orders", description="x"),  # one of two words, in its name: 8
            Doc("ledger", description="orders payments"),  # both, in descriptions: 3 x 1.5
            Doc("payments-orders"),  # both, in its name: 16 x 1.5
        ]
    )

    assert index.search("payments orders") == [(24.0, 2), (8.0, 0), (4.5, 1)]


def test_equal_scores_keep_index_order_and_the_limit_holds() -> None:
    index = SearchIndex([Doc(f"cache-{n}") for n in range(30)])

    found = index.search("cache", limit=10)

    assert [position for _, position in found] == list(range(10))


def test_the_filter_skips_positions_and_the_next_best_fill_the_limit() -> None:
    index = SearchIndex([Doc(f"cache-{n}") for n in range(30)])

    found = index.search("cache", limit=3, allowed=lambda position: position % 2 == 1)

    assert [position for _, position in found] == [1, 3, 5]


def test_a_filter_nothing_passes_finds_nothing() -> None:
    index = SearchIndex([Doc("cache")])

    assert index.search("cache", allowed=lambda _: False) == []


def test_a_prefix_scores_below_the_whole_word() -> None:
    index = SearchIndex([Doc("paymentsd"), Doc("payments")])

    assert index.search("payments") == [
        (FIELD_WEIGHT[NAME] * ALL_WORDS_BONUS, 1),
        (FIELD_WEIGHT[NAME] * PREFIX * ALL_WORDS_BONUS, 0),
    ]


def test_a_misspelling_still_finds_the_word() -> None:
    index = SearchIndex([Doc("inventory"), Doc("ledger")])

    assert [position for _, position in index.search("invetnory")] == [0]


@pytest.mark.parametrize("query", ["", "   ", "!!!"])
def test_a_query_without_words_finds_nothing(query: str) -> None:
    assert SearchIndex([Doc("cache")]).search(query) == []


def test_an_empty_index_finds_nothing() -> None:
    index = SearchIndex([])

    assert index.size == 0
    assert index.search("cache") == []


def _arrays(index: SearchIndex) -> tuple[object, ...]:
    return (
        index._vocabulary,
        index._offsets.tolist(),
        index._positions.tolist(),
        index._fields.tolist(),
        index._grams.keys(),
        [list(v) for _, v in sorted(index._grams.items())],
        index.size,
    )


def test_an_updated_index_is_the_index_built_afresh() -> None:
    words = ["payments", "orders", "ledger", "café", "search", "prod", "api", "gateway"]
    before = [
        Doc(f"svc-{n:03d}", title=f"{words[n % 8]} {words[n % 5]}", tags=(words[n % 3],),
            description=f"{words[n % 7]} for {words[(n + 1) % 8]}", lifecycle="production")
        for n in range(60)
    ]  # fmt: skip
    before[3] = Doc("svc-003", description="the only zebra")
    # svc-003 and svc-010 change (`zebra` leaves the index with svc-003's), svc-020 to
    # svc-029 go, and two new ones come, one of them first.
    changed = {3: Doc("svc-003", title="ledger"), 10: Doc("svc-010", description="brand new")}
    after = [changed.get(n, doc) for n, doc in enumerate(before) if not 20 <= n < 30]
    after = [Doc("aaa", description="first word"), *after, Doc("zzz", tags=("payments",))]
    moved = [-1 if n in changed or 20 <= n < 30 else n + 1 - 10 * (n >= 30) for n in range(60)]
    fresh = [0, 4, 11, len(after) - 1]

    updated = SearchIndex.updated(
        SearchIndex(before), np.array(moved, dtype=np.int64), after, fresh
    )

    assert _arrays(updated) == _arrays(SearchIndex(after))
    assert "zebra" in SearchIndex(before)._vocabulary and "zebra" not in updated._vocabulary
