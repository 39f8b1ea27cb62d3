"""The router's pure builders: the App Home tab (validated by slack_sdk's `.to_dict()`)."""

from __future__ import annotations

import pytest

from bot.core import router_views
from bot.core.router import Subcommand

HOME_BLOCK_LIMIT = 100
# Header, divider and footer around the entries.
FRAME_BLOCKS = 3


def _subcommands(count: int) -> list[Subcommand]:
    return [
        Subcommand(
            name=f"cmd-{n:03d}",
            summary=f"Does thing {n}.",
            usage=f"/platform cmd-{n:03d} ARG",
            example=f"/platform cmd-{n:03d} demo",
            action="echo",
            handler=lambda ctx: None,
        )
        for n in range(count)
    ]


def _home(count: int) -> dict[str, object]:
    help_blocks = router_views.build_help(
        _subcommands(count), platform_name="Orbit", docs_url="https://docs.example.com"
    )
    return router_views.build_home(help_blocks).to_dict()


def test_the_home_tab_is_the_callers_help_card() -> None:
    home = _home(2)

    assert home["type"] == "home"
    text = str(home["blocks"])
    assert "Orbit in Slack" in text
    assert "/platform cmd-000 ARG" in text and "/platform cmd-001 demo" in text
    assert "https://docs.example.com" in text


def test_a_person_who_may_run_nothing_is_told_so_on_the_home_tab() -> None:
    home = _home(0)

    assert "There is nothing you can run here yet" in str(home["blocks"])


@pytest.mark.parametrize(("registered", "shown"), [(44, 44), (45, 45), (46, 45), (200, 45)])
def test_the_home_tab_stays_inside_slacks_block_limit(registered: int, shown: int) -> None:
    blocks = _home(registered)["blocks"]

    assert isinstance(blocks, list)
    assert len(blocks) == shown + FRAME_BLOCKS <= HOME_BLOCK_LIMIT
