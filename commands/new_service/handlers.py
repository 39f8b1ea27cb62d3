"""Slack listeners of `/platform new-service`: the form, its rebuilds, and its submit.

Each acks first (or acks with field errors), then calls the service and renders. The slow
part runs in the job; the modal says so and the result comes by DM.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.core.errors import PlatformError
from bot.core.identity import IdentityService
from bot.core.mrkdwn import escape
from bot.core.router import CommandContext
from commands.new_service.service.questions import AnswersInvalid
from commands.new_service.service.requests import FormValues, ServiceRequests
from commands.new_service.service.templates import TemplateShelf
from commands.new_service.views import modals

logger = logging.getLogger(__name__)
JSON = dict[str, Any]
USAGE = "/platform new-service [TEMPLATE] [NAME]"


class ServiceHandlers:
    def __init__(
        self, *, requests: ServiceRequests, shelf: TemplateShelf, identity: IdentityService
    ) -> None:
        self._requests = requests
        self._shelf = shelf
        self._identity = identity

    def handle_new_service(self, ctx: CommandContext) -> None:
        if not self._requests.teams_for(ctx.principal):
            ctx.ack("A service belongs to a team, and you are in none. Ask the platform team.")
            return
        template = ctx.args[0] if ctx.args else ""
        if template and template not in self._shelf.keys:
            known = ", ".join(f"`{k}`" for k in self._shelf.keys)
            ctx.ack(f"There is no service template `{escape(template[:40])}`. Known: {known}.")
            return
        values = FormValues(template=template, name=ctx.args[1][:40] if len(ctx.args) > 1 else "")
        modal = self._modal(ctx.principal, values, ctx.channel_id)
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=modal)

    def _modal(self, principal: Any, values: FormValues, channel: str | None) -> JSON:
        form = self._requests.form(principal, values)
        return modals.build_form_modal(self._shelf.describe(), form, values, channel)

    def handle_form_change(self, ack: Ack, body: JSON, client: WebClient) -> None:
        """A template, choice or yes/no picked: show what follows from it."""
        ack()
        view = body["view"]
        principal = self._identity.principal(body["user"]["id"])
        values = modals.parse_form(view)
        if values.template != modals.metadata_of(view).get("template"):
            values = FormValues(template=values.template, name=values.name, owner=values.owner)
        channel = modals.metadata_of(view).get("channel")
        modal = self._modal(principal, values, channel)
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)

    def handle_form_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        principal = self._identity.principal(body["user"]["id"])
        values = modals.parse_form(view)
        channel = modals.metadata_of(view).get("channel")
        try:
            requested = self._requests.submit(
                principal,
                values,
                request_key=f"svc:{view['id']}",
                channel=str(channel) if channel else None,
            )
        except AnswersInvalid as invalid:
            ack(response_action="errors", errors=modals.field_errors(invalid.errors, view))
            return
        except PlatformError as error:
            ack(
                response_action="update",
                view=modals.build_notice_modal("Not created", error.message),
            )
            return
        text = (
            f"Creating `{escape(requested.name)}`: its repository, its catalog entry and a "
            "link to them come to your DMs in a moment."
        )
        ack(response_action="update", view=modals.build_notice_modal("Creating", text))
