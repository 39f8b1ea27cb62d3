"""The stats chart: daily active users over the period, drawn by the runtime's ChartRenderer."""

from __future__ import annotations

from commands.stats.figures import Figures
from integrations.protocols import ChartRenderer


class StatsCharts:
    def __init__(self, renderer: ChartRenderer) -> None:
        self._renderer = renderer

    def daily_active(self, figures: Figures) -> bytes | None:
        """A PNG, or None when nobody used the bot in the period (an empty chart says less)."""
        days = figures.adoption.daily_active
        if not any(count for _, count in days):
            return None
        top = max(count for _, count in days)
        return self._renderer.line_chart(
            title=f"Daily active users, last {figures.period.days} days",
            labels=[f"{day:%m-%d}" for day, _ in days],
            values=[float(count) for _, count in days],
            y_label="people",
            y_range=(0.0, float(top) * 1.1 + 1),
        )
