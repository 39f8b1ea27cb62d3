"""The `home:` section of the platform config."""

from __future__ import annotations

from pydantic import Field

from bot.core.config import Section


class HomeSection(Section):
    refresh_seconds: float = Field(
        default=2.0,
        ge=0.1,
        le=300,
        description="a person's App Home is published at most once in this many seconds "
        "when their things change (changes in between are shown together)",
    )
    shown_per_list: int = Field(
        default=5,
        ge=1,
        le=10,
        description="items of each list on the App Home; the rest are counted, with the "
        "command that lists them all",
    )
