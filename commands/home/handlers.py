"""Slack listeners of the dashboard: the App Home tab, its Cancel button, and the commands
`/platform requests`, `/platform approvals` and `/platform cancel ID`.

The App Home is published on `app_home_opened` (Slack acks events before the listener runs)
and, after changes, by the `RefreshQueue`. Cancel acks first, then asks the feature that has
the request, as the person who clicked: the button's value is only an id, and the features
refuse a request that is not the clicker's own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.core.identity import IdentityService, Principal
from bot.core.router import CommandContext, Subcommand
from commands.home import views
from commands.home.refresh import RefreshQueue
from commands.home.service import HomeService
from integrations.protocols import Messenger

logger = logging.getLogger(__name__)
JSON = dict[str, Any]


class HomeHandlers:
    def __init__(
        self,
        *,
        service: HomeService,
        identity: IdentityService,
        messenger: Messenger,
        commands_for: Callable[[Principal], list[Subcommand]],
        shown: int,
    ) -> None:
        self._commands_for = commands_for
        self._service = service
        self._identity = identity
        self._messenger = messenger
        self._shown = shown
        self.refresh: RefreshQueue | None = None
        """Told of each publish made here, so that a change just after waits its turn."""

    def publish(self, user_id: str) -> None:
        """Publish `user_id`'s App Home as it is now (the refresh queue's job too)."""
        principal = self._identity.principal(user_id)
        dashboard = self._service.dashboard(principal)
        view = views.build_home(dashboard, self._commands_for(principal), shown=self._shown)
        self._messenger.publish_home(principal.user_id, view.to_dict())
        if self.refresh is not None:
            self.refresh.published(principal.user_id)

    def handle_home_opened(self, event: JSON) -> None:
        if event.get("tab") != "home":
            return
        self.publish(str(event["user"]))

    def handle_cancel_click(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        principal = self._identity.principal(body["user"]["id"])
        request_id = str(body["actions"][0].get("value") or "")
        outcome = self._service.cancel(principal, request_id)
        if not outcome.cancelled:
            # The tab cannot show a message: the refusal opens over it.
            client.views_open(
                trigger_id=body["trigger_id"], view=views.build_cancel_notice(outcome.message)
            )
        self.publish(principal.user_id)

    def handle_requests(self, ctx: CommandContext) -> None:
        ctx.ack()
        dashboard = self._service.dashboard(ctx.principal)
        text, blocks = views.build_requests(dashboard.items.requests)
        ctx.reply(text, blocks=blocks)

    def handle_approvals(self, ctx: CommandContext) -> None:
        ctx.ack()
        dashboard = self._service.dashboard(ctx.principal)
        text, blocks = views.build_approvals(dashboard.items.approvals)
        ctx.reply(text, blocks=blocks)

    def handle_cancel(self, ctx: CommandContext) -> None:
        if not ctx.args:
            ctx.ack("Which request? `/platform cancel ID`, with the id `/platform requests` shows.")
            return
        # Acked first: the cancel updates the approvers' message in Slack before it answers.
        ctx.ack()
        outcome = self._service.cancel(ctx.principal, ctx.args[0])
        ctx.reply(outcome.message)
