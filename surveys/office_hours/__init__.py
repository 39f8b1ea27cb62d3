"""Office hours: `/platform office-hours`, reminder buttons, the question modal, follow-ups."""

from __future__ import annotations

from slack_bolt import App

from bot.router import CommandRouter, Subcommand
from surveys.office_hours.handlers import OfficeHoursHandlers
from surveys.office_hours.ids import RATE_PATTERN, ActionId, CallbackId
from surveys.office_hours.service import OfficeHoursService


def register(app: App, router: CommandRouter, *, service: OfficeHoursService) -> None:
    handlers = OfficeHoursHandlers(service)
    router.add(
        Subcommand(
            name="office-hours",
            summary="The next office hours: when, who hosts, and the question queue.",
            usage="/platform office-hours [NAME]",
            example="/platform office-hours",
            action="office-hours",
            handler=handlers.handle_office_hours,
            aliases=("oh",),
        )
    )
    app.action(ActionId.ASK)(handlers.handle_ask)
    app.action(ActionId.ATTEND)(handlers.handle_attend)
    app.action(RATE_PATTERN)(handlers.handle_rate)
    app.view(CallbackId.QUESTION)(handlers.handle_question)
