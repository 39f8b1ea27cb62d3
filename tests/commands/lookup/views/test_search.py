"""Search results and the "which one?" menu: Block Kit checked, the menu's value parsed back."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.errors import InvalidInput
from bot.core.mrkdwn import SECTION_TEXT_LIMIT
from bot.emulator.blockkit import check_message_blocks
from commands.lookup.service.types import Ambiguous, SearchHit, SearchResult
from commands.lookup.views import search
from tests.commands.lookup.views.samples import make_entity
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


def _hits(count: int, description: str = "Card payments") -> list[SearchHit]:
    entities = [replace(make_entity(f"payments-{n:03d}"), description=description)
                for n in range(count)]  # fmt: skip
    return [SearchHit(entity, "Payments") for entity in entities]


def test_search_results_are_numbered_with_kind_owner_and_a_one_line_summary() -> None:
    result = SearchResult("payments", _hits(2, "Card **payments**\n\nand refunds"), indexed=1_234)
    text, blocks = search.build_search(result)
    assert check_message_blocks(blocks) == []
    assert text == "Top 2 for `payments` in the catalog:"
    assert blocks[0]["text"]["text"] == (
        "Top 2 for `payments` in the catalog:\n"
        "1. *payments-000* (component, owner Payments): Card *payments* and refunds\n"
        "2. *payments-001* (component, owner Payments): Card *payments* and refunds"
    )
    assert blocks[1]["elements"][0]["text"] == search.SEARCH_HINT


def test_a_search_that_finds_nothing_says_how_big_the_catalog_is() -> None:
    text, blocks = search.build_search(SearchResult("nope", [], indexed=50_000, filters="kind:api"))
    assert text == "Nothing in the catalog (50,000 entries) matches `nope kind:api`."
    assert [b["type"] for b in blocks] == ["section"]


@pytest.mark.parametrize(
    ("shown", "total", "header"),
    [
        (10, 10, "The 10 entries with `kind:api`:"),
        (10, 11, "10 of the 11 entries with `kind:api` (add words to narrow it):"),
    ],
)
def test_a_filter_only_search_says_whether_it_listed_everything(
    shown: int, total: int, header: str
) -> None:
    result = SearchResult("", _hits(shown), indexed=100, filters="kind:api", total=total)
    text, _ = search.build_search(result)
    assert text == header


def test_long_descriptions_and_hostile_queries_stay_inside_the_limits_as_text() -> None:
    result = SearchResult(HOSTILE_TEXT, _hits(10, HOSTILE_TEXT * 200), indexed=10)
    text, blocks = search.build_search(result)
    assert check_message_blocks(blocks) == []
    assert len(blocks[0]["text"]["text"]) <= SECTION_TEXT_LIMIT
    assert not any(marker in str(blocks) + text for marker in RAW_MARKERS)


def test_the_menu_for_an_ambiguous_name_round_trips() -> None:
    error = Ambiguous(
        "payments", [make_entity("payments", "api"), make_entity("payments", "group")]
    )
    _, blocks = search.build_ambiguous(error, "oncall")
    options = blocks[0]["accessory"]["options"]
    assert [o["value"] for o in options] == [
        "oncall|api:default/payments",
        "oncall|group:default/payments",
    ]
    assert search.parse_pick(options[1]["value"]) == ("oncall", "group:default/payments")
    with pytest.raises(InvalidInput):
        search.parse_pick("garbage")


def test_a_name_matching_more_than_a_menu_holds_shows_the_first_100_and_how_to_narrow() -> None:
    candidates = [make_entity(f"payments-{n:03d}") for n in range(120)]
    _, blocks = search.build_ambiguous(Ambiguous("payments", candidates), "owner")
    assert check_message_blocks(blocks) == []
    assert len(blocks[0]["accessory"]["options"]) == 100
    assert blocks[0]["text"]["text"] == (
        "`payments` matches 120 entries; the menu shows the first 100 (20 more). "
        "Pick one, or narrow it: `/platform catalog payments kind:component owner:TEAM`, "
        "or a full reference such as `component:default/payments-000`."
    )
    exactly = [make_entity(f"payments-{n:03d}") for n in range(100)]
    _, blocks = search.build_ambiguous(Ambiguous("payments", exactly), "owner")
    assert blocks[0]["text"]["text"] == "`payments` matches 100 entries. Which one?"


def test_the_longest_valid_reference_fits_a_menu_value_whole() -> None:
    # Names and namespaces are at most 63 characters, and kinds are the built-in ones.
    longest = make_entity("n" * 63, "component")
    longest = replace(longest, ref=f"component:{'s' * 63}/{'n' * 63}")
    _, blocks = search.build_ambiguous(Ambiguous("n" * 63, [longest, make_entity()]), "service")
    value = blocks[0]["accessory"]["options"][0]["value"]
    assert search.parse_pick(value) == ("service", longest.ref)
