"""The docs answer's Block Kit: highlights as bold, page text escaped, limits kept."""

from __future__ import annotations

from bot.emulator.blockkit import check_message_blocks
from commands.docs.service.index import Hit, SearchResult
from commands.docs.views import build_results, parse_vote, snippet_mrkdwn

START, STOP = "\ue000", "\ue001"


def test_a_snippet_bolds_highlights_and_escapes_everything_else() -> None:
    snippet = f"run <!channel> & *boom* then {START}database{STOP}\nnext <https://x|y>"
    shown = snippet_mrkdwn(snippet)
    assert (
        shown
        == "run &lt;!channel&gt; &amp; \u2217boom\u2217 then *database* next &lt;https://x|y&gt;"
    )


def test_a_long_snippet_is_cut() -> None:
    assert len(snippet_mrkdwn("word " * 1000)) <= 401


def test_hostile_titles_fit_block_kit_and_stay_text() -> None:
    hits = [
        Hit("t", f"p{n}.md", "<!here>|" + "T" * 500, "B" * 400, "https://d.example/p/", "s" * 900)
        for n in range(5)
    ]
    _, blocks = build_results(SearchResult("q", ["q"], hits), [])
    assert check_message_blocks(blocks) == []
    assert "<!here>" not in str(blocks)
    assert parse_vote(blocks[2]["elements"][0]["value"]) == ("t", "p0.md")
