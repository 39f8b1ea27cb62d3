"""The router's answers as people read them: help for one command, help for help, typos and
errors, built without a bot and checked by the emulator's Block Kit checker."""

from __future__ import annotations

import pytest

from bot.core import router_views
from bot.core.errors import NotAllowed, NotFound
from bot.core.mrkdwn import SECTION_TEXT_LIMIT
from bot.core.router import Subcommand
from bot.emulator.blockkit import check_message_blocks
from tests.core.test_router_views import _subcommands
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS

ECHO_LIMIT = 41  # characters of a typed word repeated back
HEADER_LIMIT = 150
MESSAGE_BLOCKS = 50


def _text(blocks: list[dict[str, object]]) -> str:
    assert check_message_blocks(blocks) == []
    (block,) = blocks
    text = block["text"]
    assert isinstance(text, dict)
    return str(text["text"])


# -- plain answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "shown"),
    [
        (1, "a"),
        (SECTION_TEXT_LIMIT, "a" * SECTION_TEXT_LIMIT),
        (SECTION_TEXT_LIMIT + 1, "a" * (SECTION_TEXT_LIMIT - 1) + "…"),
    ],
)
def test_an_answer_is_shown_whole_when_it_fits_a_section(length: int, shown: str) -> None:
    assert _text(router_views.build_text("a" * length)) == shown


def test_a_longer_answer_is_cut_inside_the_section_without_breaking_an_entity() -> None:
    text = "a" * (SECTION_TEXT_LIMIT - 3) + "&amp; more"

    shown = _text(router_views.build_text(text))

    assert shown == "a" * (SECTION_TEXT_LIMIT - 3) + "…"


# -- help -------------------------------------------------------------------------------------


def test_the_help_card_lists_each_command_with_its_usage_and_example() -> None:
    blocks = router_views.build_help(_subcommands(2)[::-1], platform_name="Orbit", docs_url=None)

    assert check_message_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == "Orbit in Slack"
    entries = [block["text"]["text"] for block in blocks[1:3]]
    assert entries == [
        "*`/platform cmd-000 ARG`*\nDoes thing 0.\n_Example:_ `/platform cmd-000 demo`",
        "*`/platform cmd-001 ARG`*\nDoes thing 1.\n_Example:_ `/platform cmd-001 demo`",
    ]
    footer = blocks[-1]["elements"][0]["text"]
    assert footer == "`/platform help COMMAND` shows one command in detail."


def test_the_help_card_links_the_platform_docs_when_configured() -> None:
    blocks = router_views.build_help([], platform_name="Orbit", docs_url="https://docs.example")

    footer = blocks[-1]["elements"][0]["text"]
    assert footer.endswith(" Platform docs: <https://docs.example|https://docs.example>")


@pytest.mark.parametrize("registered", [0, 1, 200])
def test_the_help_card_fits_a_message(registered: int) -> None:
    blocks = router_views.build_help(
        _subcommands(registered), platform_name="Orbit", docs_url="https://docs.example"
    )

    assert check_message_blocks(blocks) == []
    assert len(blocks) <= MESSAGE_BLOCKS


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("O" * (HEADER_LIMIT - 9), "O" * (HEADER_LIMIT - 9) + " in Slack"),
        ("O" * (HEADER_LIMIT - 8), ("O" * (HEADER_LIMIT - 8) + " in Slack")[:HEADER_LIMIT]),
    ],
)
def test_a_long_platform_name_is_cut_to_the_header_limit(name: str, header: str) -> None:
    blocks = router_views.build_help([], platform_name=name, docs_url=None)

    assert check_message_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == header


def _one(aliases: tuple[str, ...] = ()) -> Subcommand:
    return Subcommand(
        name="owner",
        summary="Who owns a service.",
        usage="/platform owner SERVICE",
        example="/platform owner payments-api",
        action="lookup.owner",
        handler=lambda ctx: None,
        aliases=aliases,
    )


def test_help_for_one_command_shows_its_usage_example_and_other_names() -> None:
    assert _text(router_views.build_subcommand_help(_one())) == (
        "*`/platform owner SERVICE`*\nWho owns a service.\n\n"
        "_Example:_ `/platform owner payments-api`"
    )
    with_aliases = _text(router_views.build_subcommand_help(_one(("who-owns", "whose"))))
    assert with_aliases.endswith("\n_Also:_ `who-owns`, `whose`")


def test_help_for_help_explains_help_with_an_example_the_person_may_run() -> None:
    text = _text(router_views.build_help_for_help("owner"))

    assert text.startswith("*`/platform help [COMMAND]`*\nWithout a command, shows what")
    assert text.endswith("\n\n_Example:_ `/platform help owner`")


# -- typos and errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suggestions", "said"),
    [
        ([], "I don't know `/platform ownr`. Type `/platform help` to see what you can run."),
        (
            ["owner"],
            "I don't know `/platform ownr`. Did you mean `/platform owner`? "
            "Type `/platform help` to see what you can run.",
        ),
        (
            ["owner", "oncall"],
            "I don't know `/platform ownr`. Did you mean `/platform owner` or `/platform oncall`? "
            "Type `/platform help` to see what you can run.",
        ),
    ],
)
def test_a_typo_is_answered_with_the_closest_commands(suggestions: list[str], said: str) -> None:
    assert router_views.unknown_subcommand_text("ownr", suggestions) == said


@pytest.mark.parametrize(
    ("typed", "echoed"),
    [("x" * ECHO_LIMIT, "x" * ECHO_LIMIT), ("x" * (ECHO_LIMIT + 1), "x" * (ECHO_LIMIT - 1) + "…")],
)
def test_a_long_typo_is_repeated_back_cut(typed: str, echoed: str) -> None:
    assert router_views.unknown_subcommand_text(typed, []).startswith(
        f"I don't know `/platform {echoed}`."
    )


def test_a_hostile_typo_is_repeated_back_as_text() -> None:
    text = router_views.unknown_subcommand_text(HOSTILE_TEXT, [])

    assert not any(marker in text for marker in RAW_MARKERS)
    assert text.startswith("I don't know `/platform &lt;!channel&gt; &lt;https://evil.exa")
    assert _text(router_views.build_text(text)) == text


@pytest.mark.parametrize(("offered", "shown"), [(0, 0), (1, 1), (5, 5), (6, 5)])
def test_not_found_offers_at_most_five_suggestions(offered: int, shown: int) -> None:
    names = [f"svc-{n}" for n in range(offered)]

    text = router_views.error_text(NotFound("No such service.", suggestions=names))

    listed = ", ".join(f"`svc-{n}`" for n in range(shown))
    assert text == (f"No such service. Did you mean {listed}?" if shown else "No such service.")


def test_other_errors_are_their_message() -> None:
    assert router_views.error_text(NotAllowed("Only admins may reindex.")) == (
        "Only admins may reindex."
    )


def test_an_unexpected_error_gives_a_reference_to_quote() -> None:
    assert router_views.unexpected_error_text("e-7f3a") == (
        "Sorry, something went wrong on our side (reference `e-7f3a`). "
        "Try again in a moment, or give the platform team that reference."
    )
