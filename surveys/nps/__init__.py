"""NPS campaigns: `/platform nps`, the survey DMs and modal, and the fan-out job."""

from __future__ import annotations

from slack_bolt import App

from bot.policy import Policy
from bot.router import CommandRouter, Subcommand
from surveys.csat.service import CsatService
from surveys.nps.handlers import USAGE, NpsHandlers
from surveys.nps.ids import ActionId, CallbackId
from surveys.nps.service import NpsService


def register(
    app: App, router: CommandRouter, *, service: NpsService, csat: CsatService, policy: Policy
) -> None:
    handlers = NpsHandlers(service=service, csat=csat, policy=policy)
    router.add(
        Subcommand(
            name="nps",
            summary="NPS results; admins also list, pause, resume, run and export campaigns.",
            usage=USAGE,
            example="/platform nps quarterly",
            action="nps.results",
            handler=handlers.handle_nps,
            mutating=True,
        )
    )
    app.action(ActionId.TAKE)(handlers.handle_take)
    app.action(ActionId.SNOOZE)(handlers.handle_snooze)
    app.view(CallbackId.ANSWER)(handlers.handle_answer)
