"""Block Kit for the router's own answers: help, the App Home tab, typos, errors (pure builders)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.errors import NotFound, PlatformError
from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, escape_truncated, truncate

if TYPE_CHECKING:
    from bot.core.router import Subcommand

ALREADY_RUNNING = (
    "This request is already being handled; progress appears in its thread or in your DM."
)
# A message may hold 50 blocks; help keeps room for its header and footer.
_MAX_HELP_ENTRIES = 45
# How much of a typed word an answer repeats back.
_ECHO_LIMIT = 41


def build_text(text: str) -> list[dict[str, Any]]:
    """`text` (finished mrkdwn) as a section, cut to its limit without breaking markup."""
    return [
        SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT))).to_dict()
    ]


def build_help(
    subcommands: list[Subcommand], *, platform_name: str, docs_url: str | None
) -> list[dict[str, Any]]:
    """The help card: only what the caller may run, each with usage and an example."""
    blocks: list[Any] = [HeaderBlock(text=f"{platform_name} in Slack"[:150])]
    if not subcommands:
        blocks.append(
            SectionBlock(text="There is nothing you can run here yet; ask the platform team.")
        )
    for subcommand in sorted(subcommands, key=lambda s: s.name)[:_MAX_HELP_ENTRIES]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*`{subcommand.usage}`*\n{subcommand.summary}\n"
                    f"_Example:_ `{subcommand.example}`"
                )
            )
        )
    blocks.append(DividerBlock())
    footer = "`/platform help COMMAND` shows one command in detail."
    if docs_url:
        footer += f" Platform docs: <{docs_url}|{docs_url}>"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return [block.to_dict() for block in blocks]


def build_home(help_blocks: list[dict[str, Any]]) -> View:
    """The App Home tab: the same help card the person gets from `/platform help`."""
    return View(type="home", blocks=help_blocks)


def build_subcommand_help(subcommand: Subcommand) -> list[dict[str, Any]]:
    text = f"*`{subcommand.usage}`*\n{subcommand.summary}\n\n_Example:_ `{subcommand.example}`"
    if subcommand.aliases:
        text += "\n_Also:_ " + ", ".join(f"`{alias}`" for alias in subcommand.aliases)
    return [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def build_help_for_help(example: str) -> list[dict[str, Any]]:
    """What `/platform help help` answers: what help itself does."""
    text = (
        "*`/platform help [COMMAND]`*\n"
        "Without a command, shows what you can run here. With one, shows that command in "
        "detail: what it does, how to type it, an example and any other names it answers to."
        f"\n\n_Example:_ `/platform help {example}`"
    )
    return [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def unknown_subcommand_text(name: str, suggestions: list[str]) -> str:
    # What was typed is echoed, so it is escaped: `<!channel>` must not ping anyone.
    text = f"I don't know `/platform {escape_truncated(name, _ECHO_LIMIT)}`."
    if suggestions:
        text += " Did you mean " + " or ".join(f"`/platform {s}`" for s in suggestions) + "?"
    return text + " Type `/platform help` to see what you can run."


def error_text(error: PlatformError) -> str:
    text = error.message
    if isinstance(error, NotFound) and error.suggestions:
        shown = error.suggestions[:5]
        text += " Did you mean " + ", ".join(f"`{escape(s)}`" for s in shown) + "?"
    return text


def unexpected_error_text(reference: str) -> str:
    return (
        f"Sorry, something went wrong on our side (reference `{reference}`). "
        "Try again in a moment, or give the platform team that reference."
    )
