"""The App Home dashboard and `/platform requests`, `approvals`, `cancel ID` as one Feature.

Every other feature offers what people see of it through `Parts.dashboard`; this one draws
it, publishes it when the tab opens, and subscribes to `Core.dashboard.changed` so that a
person's tab follows their requests (published after a change, paced by `RefreshQueue`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.router import Subcommand
from bot.core.slack_ids import BotEvent
from commands.home.config import HomeSection
from commands.home.handlers import HomeHandlers
from commands.home.ids import ActionId, PolicyAction
from commands.home.refresh import RefreshQueue
from commands.home.service import HomeService


@dataclass
class Home:
    service: HomeService
    handlers: HomeHandlers
    refresh: RefreshQueue


@dataclass(frozen=True)
class HomeFeature:
    name: str = "home"
    sections: Sequence[ConfigSection] = field(default=(ConfigSection("home", HomeSection),))
    models: str | None = None
    migrations: Path | None = None

    def build(self, core: Core) -> Parts[Home]:
        section = core.section("home", HomeSection)
        service = HomeService(
            relay=core.dashboard,
            sessions=core.sessions,
            policy=core.policy,
            clock=core.clock,
            zone=core.config.platform.timezone,
        )
        handlers = HomeHandlers(
            service=service,
            identity=core.identity,
            messenger=core.messenger,
            commands_for=core.commands_for,
            shown=section.shown_per_list,
        )
        refresh = RefreshQueue(handlers.publish, interval=section.refresh_seconds)
        handlers.refresh = refresh
        core.dashboard.subscribe(refresh.changed)
        return Parts(
            api=Home(service=service, handlers=handlers, refresh=refresh),
            subcommands=_subcommands(handlers),
            listeners=[
                Listener(ListenerKind.EVENT, BotEvent.APP_HOME_OPENED, handlers.handle_home_opened),
                Listener(ListenerKind.ACTION, ActionId.CANCEL, handlers.handle_cancel_click),
            ],
            start=[refresh.start],
            close=[refresh.close],
        )


def _subcommands(handlers: HomeHandlers) -> list[Subcommand]:
    return [
        Subcommand(
            name="requests",
            summary="Your open requests: waiting for approval, queued, running or failed.",
            usage="/platform requests",
            example="/platform requests",
            action=PolicyAction.READ,
            handler=handlers.handle_requests,
        ),
        Subcommand(
            name="approvals",
            summary="Requests waiting for your approval, with Approve and Deny.",
            usage="/platform approvals",
            example="/platform approvals",
            action=PolicyAction.READ,
            handler=handlers.handle_approvals,
        ),
        Subcommand(
            name="cancel",
            summary="Cancel one of your requests that has not started yet.",
            usage="/platform cancel ID",
            example="/platform cancel 1a2b3c4d",
            action=PolicyAction.CANCEL,
            handler=handlers.handle_cancel,
            mutating=True,
        ),
    ]
