"""The `/platform stats [PERIOD]` listener: everyone sees the platform-wide figures; admins
(policy action `stats.read`) also see teams, failure reasons and the NPS and CSAT trend, and get
charts in their DM."""

from __future__ import annotations

import logging

from bot.core.errors import InvalidInput
from bot.core.policy import Policy
from bot.core.router import CommandContext
from commands.stats import views
from commands.stats.charts import StatsCharts
from commands.stats.figures import Figures, Period
from commands.stats.service import StatsService
from integrations.errors import IntegrationError
from integrations.protocols import Messenger

logger = logging.getLogger(__name__)

READ_ACTION = "stats.read"


def parse_period(args: list[str]) -> Period:
    if not args:
        return Period.MONTH
    if len(args) == 1:
        try:
            return Period(args[0].lower())
        except ValueError:
            pass
    raise InvalidInput(f"The period is one of 7d, 30d or 90d. Usage: `{views.USAGE}`")


class StatsHandlers:
    def __init__(
        self, *, stats: StatsService, policy: Policy, charts: StatsCharts, messenger: Messenger
    ) -> None:
        self._stats = stats
        self._policy = policy
        self._charts = charts
        self._messenger = messenger

    def handle_stats(self, ctx: CommandContext) -> None:
        period = parse_period(ctx.args)
        full = self._policy.can(ctx.principal, READ_ACTION).allowed
        # Acked first: a 90-day answer reads a large usage table, and Slack waits 3 s at most.
        ctx.ack()
        figures = self._stats.figures(period, daily=full, feedback=full)
        ctx.reply(
            f"Platform stats, last {period.days} days",
            blocks=views.build_stats(figures, full=full),
        )
        if full:
            self._upload_charts(ctx, figures)

    def _upload_charts(self, ctx: CommandContext, figures: Figures) -> None:
        charts = self._charts.all(figures)
        if not charts:
            return
        # To the caller's DM: the bot may not be in the channel, and the charts are theirs.
        try:
            dm = self._messenger.open_dm(ctx.user_id)
            for chart in charts:
                self._messenger.upload(
                    dm,
                    filename=f"platform-stats-{chart.name}-{figures.period}.png",
                    content=chart.png,
                    title=chart.title,
                    comment=chart.title,
                )
        except IntegrationError:
            logger.exception("could not upload the stats charts")
            ctx.respond(text="I could not upload the charts; try again.", response_type="ephemeral")
