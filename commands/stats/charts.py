"""The stats charts, drawn by the runtime's ChartRenderer: daily active users, NPS per round
of each campaign, and CSAT per week. Each is None when it would have nothing to show (an
empty chart says less than none)."""

from __future__ import annotations

from dataclasses import dataclass

from commands.stats.figures import Figures
from integrations.protocols import ChartRenderer

# One chart per campaign: a workspace runs one or two; more would flood the DM.
MAX_NPS_CHARTS = 3


@dataclass(frozen=True)
class Chart:
    name: str
    """A slug for the file name."""
    title: str
    png: bytes


class StatsCharts:
    def __init__(self, renderer: ChartRenderer) -> None:
        self._renderer = renderer

    def all(self, figures: Figures) -> list[Chart]:
        """Every chart with something to show, in the order they are posted."""
        found = [self.daily_active(figures), *self.nps(figures), self.csat(figures)]
        return [chart for chart in found if chart is not None]

    def daily_active(self, figures: Figures) -> Chart | None:
        days = figures.adoption.daily_active
        if not any(count for _, count in days):
            return None
        top = max(count for _, count in days)
        title = f"Daily active users, last {figures.period.days} days"
        png = self._renderer.line_chart(
            title=title,
            labels=[f"{day:%m-%d}" for day, _ in days],
            values=[float(count) for _, count in days],
            y_label="people",
            y_range=(0.0, float(top) * 1.1 + 1),
        )
        return Chart("active", title, png)

    def nps(self, figures: Figures) -> list[Chart]:
        """Per campaign, the rounds of the period with a score (enough answers)."""
        by_campaign: dict[str, list[tuple[str, float]]] = {}
        for round_ in figures.feedback.nps:
            if round_.result is not None:
                label = f"#{round_.number} {round_.opened_at:%m-%d}"
                by_campaign.setdefault(round_.campaign, []).append((label, round_.result.score))
        charts = []
        for campaign, points in sorted(by_campaign.items())[:MAX_NPS_CHARTS]:
            title = f"NPS per round: {campaign}, last {figures.period.days} days"
            png = self._renderer.line_chart(
                title=title,
                labels=[label for label, _ in points],
                values=[round(score, 1) for _, score in points],
                y_label="NPS",
                y_range=(-100.0, 100.0),
            )
            charts.append(Chart(f"nps-{campaign}", title, png))
        return charts

    def csat(self, figures: Figures) -> Chart | None:
        """Mean rating per week, over the actions with enough ratings that week."""
        weeks = figures.feedback.csat_pooled()
        if not weeks:
            return None
        title = f"Action CSAT per week (1-5), last {figures.period.days} days"
        png = self._renderer.line_chart(
            title=title,
            labels=[f"{week.week_start:%m-%d}" for week in weeks],
            values=[round(week.average, 2) for week in weeks],
            y_label="mean rating",
            y_range=(1.0, 5.0),
        )
        return Chart("csat", title, png)
