"""The `stats:` section of the platform config."""

from __future__ import annotations

from pydantic import Field

from bot.core.config import Section


class StatsSection(Section):
    min_group_size: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="a team's figures are shown only when this many people of it used the bot",
    )
    refresh_minutes: int = Field(
        default=5, ge=1, le=1440, description="how often the leader refreshes the gauges"
    )
