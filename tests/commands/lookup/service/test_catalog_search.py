"""Catalog search: words in any script, spec.type and lifecycle, and kind/type/owner filters."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.core.db import SessionFactory, make_session_factory
from bot.core.errors import InvalidInput
from commands.lookup.service.lookups import LookupService
from commands.lookup.service.search_index import words
from integrations.fakes import FakeCatalog
from tests.commands.lookup.conftest import component, entity


@pytest.fixture
def sessions(sqlite_engine: Engine) -> SessionFactory:
    """Search never touches the database: one backend is enough here."""
    return make_session_factory(sqlite_engine)


@pytest.fixture
def international(lookup: LookupService, catalog: FakeCatalog) -> LookupService:
    """Teams in Seoul, Paris, Berlin and Bangalore describe their services in their language."""
    catalog.entities += [
        component("kr-checkout", title="결제 서비스", description="카드 결제와 환불"),
        component("fr-cafe", title="Café des paiements", description="Paiements à la caisse"),
        component("de-billing", title="Abrechnung", description="Zahlungen für Händler, Straße 5"),
        component("in-upi", title="भुगतान सेवा", description="UPI payments"),
        entity("Component", "design-system",
               spec={"type": "library", "lifecycle": "deprecated", "owner": "search"}),
    ]  # fmt: skip
    lookup.refresh()
    return lookup


def _names(service: LookupService, query: str) -> list[str]:
    return [hit.entity.name for hit in service.search(query).hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("결제", "kr-checkout"),
        ("환불", "kr-checkout"),
        ("café", "fr-cafe"),
        ("CAFÉ", "fr-cafe"),
        ("cafe\u0301", "fr-cafe"),  # é typed as e + a combining accent
        ("caisse", "fr-cafe"),
        ("händler", "de-billing"),
        ("HÄNDLER", "de-billing"),
        ("strasse", "de-billing"),  # ß casefolds to ss
        ("भुगतान", "in-upi"),  # Devanagari words hold combining vowel signs
        (
            "\uff50\uff41\uff59\uff4d\uff45\uff4e\uff54\uff53",
            "in-upi",
        ),  # full-width letters, as some keyboards type them
        ("library", "design-system"),  # spec.type
        ("deprecated", "design-system"),  # spec.lifecycle
    ],
)
def test_words_in_any_script_and_spec_type_and_lifecycle_are_found(
    international: LookupService, query: str, expected: str
) -> None:
    assert expected in _names(international, query)


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ("“payments”", "payments"),
        ("\u2018payments\u2019", "payments"),
        ("«payments»", "payments"),
        ("payments\u00a0api", "payments api"),
        ("“refunds” kind:component", "refunds"),
    ],
)
def test_smart_quotes_and_non_breaking_spaces_are_only_separators(
    lookup: LookupService, query: str, same_as: str
) -> None:
    assert _names(lookup, same_as)
    assert _names(lookup, query) == _names(lookup, same_as)


def test_filters_narrow_a_search_by_kind_type_owner_and_lifecycle(
    international: LookupService,
) -> None:
    assert _names(international, "payments kind:api") == ["payments"]
    assert set(_names(international, "payments kind:API,component")) >= {"payments", "payments-api"}
    assert _names(international, "kind:component type:library") == ["design-system"]
    assert _names(international, "lifecycle:deprecated") == ["design-system"]
    assert _names(international, "owner:search") == ["design-system", "search-service"]
    assert _names(international, "owner:group:default/search") == [
        "design-system", "search-service"
    ]  # fmt: skip
    assert _names(international, "owner:default/search kind:component search") == ["search-service"]
    assert _names(international, "owner:nobody-here") == []
    result = international.search("Kind:User")
    assert result.filters == "kind:user" and result.total == 3
    assert [h.entity.name for h in result.hits] == ["bob", "carol", "dave"]


def test_a_filter_only_search_lists_at_most_the_limit_and_counts_the_rest(
    international: LookupService,
) -> None:
    result = international.search("kind:component", limit=3)
    assert len(result.hits) == 3 and result.total == 9


@pytest.mark.parametrize("query", ["", "   ", "kind:", "\u00a0"])
def test_a_search_with_nothing_to_look_for_says_so(lookup: LookupService, query: str) -> None:
    with pytest.raises(InvalidInput, match="Give a search"):
        lookup.search(query)


@pytest.mark.parametrize("text", ["Payments_API-v2.1 (beta)", "ORDERS/refunds: 3x", "a_b_c"])
def test_ascii_text_splits_into_the_same_words_either_way(text: str) -> None:
    # ASCII text takes a faster path; appending one non-ASCII word must not change the rest.
    assert words(text + " é") == [*words(text), "é"]
