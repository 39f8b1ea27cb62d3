"""The NPS feature's durable job: the fan-out of a round."""

from __future__ import annotations

from bot.core.jobs import JobContext
from surveys.nps.service.fanout import FanOutService


class NpsFanOut:
    """The `nps.fanout` job: prepare the round once, then post what is due, then re-queue."""

    def __init__(self, fanout: FanOutService) -> None:
        self._fanout = fanout

    def run(self, ctx: JobContext) -> None:
        round_id = int(ctx.payload["round_id"])
        if ctx.payload.get("prepare") and not ctx.state.get("prepared"):
            count = self._fanout.prepare_round(round_id)
            ctx.checkpoint(prepared=True, recipients=count)
        # A later attempt runs because the last one stopped (its lease ran out, or it failed).
        self._fanout.recover_stale(round_id, taken_over=ctx.attempt > 1)
        self._fanout.send_due(round_id)
        self._fanout.schedule_rest(round_id)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        which = self._fanout.describe_round(int(ctx.payload["round_id"]))
        self._fanout.notify_admins(f"Delivering {which} failed: {error_message}")
