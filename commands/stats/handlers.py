"""The `/platform stats [PERIOD]` listener: everyone sees the platform-wide figures; admins
(policy action `stats.read`) also see teams and failure reasons, and get a chart in their DM."""

from __future__ import annotations

import logging

from bot.core.errors import InvalidInput
from bot.core.policy import Policy
from bot.core.router import CommandContext
from commands.stats import views
from commands.stats.charts import StatsCharts
from commands.stats.figures import Period
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
        figures = self._stats.figures(period, daily=full)
        ctx.reply(
            f"Platform stats, last {period.days} days",
            blocks=views.build_stats(figures, full=full),
        )
        if not full:
            return
        chart = self._charts.daily_active(figures)
        if chart is None:
            return
        # To the caller's DM: the bot may not be in the channel, and the chart is theirs.
        try:
            dm = self._messenger.open_dm(ctx.user_id)
            title = f"Daily active users, last {period.days} days"
            self._messenger.upload(
                dm,
                filename=f"platform-stats-{period}.png",
                content=chart,
                title=title,
                comment=title,
            )
        except IntegrationError:
            logger.exception("could not upload the stats chart")
            ctx.respond(text="I could not upload the chart; try again.", response_type="ephemeral")
