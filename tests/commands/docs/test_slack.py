"""`/platform docs` through the Slack emulator, over signed HTTP, on the example config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.emulator.blockkit import check_message_blocks
from commands.docs.feature import Docs
from commands.docs.ids import ActionId
from commands.docs.models import DocsVote
from tests.harness import BotHarness, running_bot

BOB = "U0BOB"
ALICE = "U0ALICE"  # admin


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[BotHarness]:
    with running_bot(tmp_path, schema=migrated_schema) as running:
        docs: Docs = running.feature("docs")
        # The start-up refresh job may be running too: the index serialises the two.
        docs.index.refresh()
        yield running


def _answer(response: Any) -> tuple[str, list[Any]]:
    assert response.status == 200, response.body
    return str(response.json.get("text", "")), list(response.json.get("blocks", []))


def test_docs_database_answers_with_links_snippets_and_buttons(bot: BotHarness) -> None:
    text, blocks = _answer(bot.signer.slash_command(BOB, "docs database"))
    assert check_message_blocks(blocks) == []
    shown = str(blocks)
    assert "Docs for “database”" in text
    assert "<https://platform.acme.example/docs/databases/new-db/|Request a new database>" in shown
    assert "Acme Platform \u203a Databases" in shown
    assert "*database*" in shown  # the highlight, as Slack bold
    assert shown.count(str(ActionId.HELPFUL)) == 5
    assert "Was this helpful?" in shown


def test_a_query_that_matches_nothing_suggests_broader_words_and_the_site(
    bot: BotHarness,
) -> None:
    text, blocks = _answer(bot.signer.slash_command(BOB, "docs zxqv <@U0BOB>"))
    assert "No docs page matches “zxqv &lt;@U0BOB&gt;”" in text
    assert "https://platform.acme.example/docs/" in str(blocks)
    empty, _ = _answer(bot.signer.slash_command(BOB, "docs"))
    assert "Search the docs for what?" in empty


def test_a_vote_counts_once_a_day_and_admins_see_the_least_helpful_pages(
    bot: BotHarness,
) -> None:
    bot.signer.slash_command(BOB, "docs database naming rules")
    [answer] = bot.emulator.state.ephemerals(BOB)
    for action in (ActionId.HELPFUL, ActionId.NOT_HELPFUL):
        bot.signer.block_action(
            BOB,
            action_id=action,
            value='{"t":"platform","p":"databases/new-db.md"}',
            message=(answer.channel, answer.ts),
            block_id="docs_vote_0",
        )
    assert bot.emulator.wait_for(
        lambda: any("was not helpful" in e.text for e in bot.emulator.state.ephemerals(BOB))
    )
    with bot.services.sessions() as session:
        votes = list(session.scalars(select(DocsVote)))
    assert [(v.user_id, v.path, v.helpful) for v in votes] == [(BOB, "databases/new-db.md", False)]
    refused, _ = _answer(bot.signer.slash_command(BOB, "docs stats"))
    assert "Only admins may" in refused
    text, blocks = _answer(bot.signer.slash_command(ALICE, "docs stats"))
    assert "16 pages indexed" in text  # 15 platform pages, 1 TechDocs page
    assert "Request a new database>: 1 no, 0 yes" in str(blocks)


def test_refresh_is_for_admins_and_reports_by_dm(bot: BotHarness) -> None:
    denied, _ = _answer(bot.signer.slash_command(BOB, "docs refresh"))
    assert "Only admins may" in denied
    started, _ = _answer(bot.signer.slash_command(ALICE, "docs refresh"))
    assert "Refreshing the docs index" in started
    assert bot.emulator.wait_for(
        lambda: any("Docs index refreshed" in m.text for m in bot.dm_messages(ALICE)),
        timeout=20,
    )


def test_a_catalog_entitys_techdocs_answer_with_a_backstage_link(bot: BotHarness) -> None:
    _, blocks = _answer(bot.signer.slash_command(BOB, "docs refund"))
    assert (
        "<https://backstage.acme.example/docs/default/component/payments-api/|Payments API>"
        in str(blocks)
    )


def test_before_the_first_refresh_the_answer_says_the_index_is_being_built(
    tmp_path: Path, migrated_schema: Path
) -> None:
    with running_bot(tmp_path, schema=migrated_schema, background=False) as running:
        text, _ = _answer(running.signer.slash_command(BOB, "docs database"))
        assert text == "The docs index is still being built; try again in a minute."
        running.feature("docs").index.refresh()
        text, _ = _answer(running.signer.slash_command(BOB, "docs database"))
        assert text.startswith("Docs for “database”")
