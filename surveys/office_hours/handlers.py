"""Slack listeners for office hours."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.core.errors import Conflict, InvalidInput
from bot.core.router import CommandContext
from surveys.office_hours import views
from surveys.office_hours.ids import BlockId
from surveys.office_hours.service.follow_ups import FollowUpService
from surveys.office_hours.service.sessions import OfficeHoursService


class OfficeHoursHandlers:
    def __init__(self, *, sessions: OfficeHoursService, follow_ups: FollowUpService) -> None:
        self._sessions = sessions
        self._follow_ups = follow_ups

    def handle_office_hours(self, ctx: CommandContext) -> None:
        overview = self._sessions.overview(ctx.args[0] if ctx.args else None)
        ctx.ack("Next office hours", blocks=views.build_overview(overview))

    def handle_ask(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        session = self._sessions.session_info(int(body["actions"][0]["value"]))
        client.views_open(trigger_id=body["trigger_id"], view=views.build_question_modal(session))

    def handle_question(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        session_id, text = views.parse_question(view)
        try:
            self._sessions.add_question(
                session_id=session_id, user_id=body["user"]["id"], text=text
            )
        except (InvalidInput, Conflict) as error:
            ack(response_action="errors", errors={BlockId.QUESTION: error.message})
            return
        ack()

    def handle_attend(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        new = self._sessions.attend(
            session_id=int(body["actions"][0]["value"]), user_id=body["user"]["id"]
        )
        respond(
            text="Noted, see you there!" if new else "You are already on the list.",
            response_type="ephemeral",
            replace_original=False,
        )

    def handle_rate(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        action = body["actions"][0]
        rating = views.parse_rating(action["action_id"])
        self._follow_ups.rate(
            session_id=int(action["value"]), user_id=body["user"]["id"], rating=rating
        )
        respond(text=f"Thanks! You rated the session {rating}/5.", replace_original=True)
