"""What `/platform catalog refresh` answers and the report it DMs: Block Kit checked."""

from __future__ import annotations

import pytest

from bot.core.mrkdwn import SECTION_TEXT_LIMIT
from bot.emulator.blockkit import check_message_blocks
from commands.lookup.service.catalog_index import RefreshOutcome
from commands.lookup.views import refresh
from integrations.protocols import CatalogProblem
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


def _outcome(problems: int = 0, source: str = "teams/payments.yaml") -> RefreshOutcome:
    return RefreshOutcome(
        generation=7,
        provider="backstage",
        entity_count=12_345,
        problems=tuple(CatalogProblem(f"{source}#{n}", "kind is missing") for n in range(problems)),
        seconds=4.25,
    )


def test_the_refresh_is_acknowledged_in_plain_words() -> None:
    assert (
        refresh.build_refresh_started() == "Refreshing the catalog index. I'll DM you the result."
    )


def test_a_clean_refresh_reports_how_many_entities_in_how_long() -> None:
    text, blocks = refresh.build_refresh_result(_outcome())
    assert check_message_blocks(blocks) == []
    assert text == "Catalog refreshed from backstage: 12,345 entities in 4.2 s."
    assert blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


@pytest.mark.parametrize("problems", [1, refresh.PROBLEMS_SHOWN])
def test_every_skipped_entry_is_listed_while_they_fit_the_list(problems: int) -> None:
    _, blocks = refresh.build_refresh_result(_outcome(problems))
    assert check_message_blocks(blocks) == []
    report = blocks[0]["text"]["text"]
    assert f"\n{problems:,} entries were skipped:\n" in report
    assert report.count("• `teams/payments.yaml#") == problems
    assert len(blocks) == 1  # nothing left out, so no pointer to the log


def test_one_past_the_list_points_to_the_log_for_the_rest() -> None:
    _, blocks = refresh.build_refresh_result(_outcome(refresh.PROBLEMS_SHOWN + 1))
    assert check_message_blocks(blocks) == []
    report = blocks[0]["text"]["text"]
    assert report.count("• `teams/payments.yaml#") == refresh.PROBLEMS_SHOWN
    assert report.endswith(" and 1 more")
    assert blocks[1]["elements"][0]["text"] == "The bot's log lists every one."


def test_hostile_and_huge_problems_stay_text_inside_the_limit() -> None:
    _, blocks = refresh.build_refresh_result(_outcome(5_000, source=HOSTILE_TEXT * 30))
    assert check_message_blocks(blocks) == []
    report = blocks[0]["text"]["text"]
    assert len(report) <= SECTION_TEXT_LIMIT and "5,000 entries were skipped" in report
    assert not any(marker in str(blocks) for marker in RAW_MARKERS)
