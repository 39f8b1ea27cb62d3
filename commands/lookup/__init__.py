"""Ownership, on-call and service lookups: `/platform owner|oncall|service|catalog`.

`bot.config` imports `commands.lookup.config` to validate the `catalog:` and `oncall:`
sections, so importing this package must stay light: `register` imports the listeners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.identity import IdentityService
    from bot.jobs import JobQueue
    from bot.policy import Policy
    from bot.router import CommandRouter
    from commands.lookup.service import LookupService


def register(
    app: App,
    router: CommandRouter,
    *,
    service: LookupService,
    policy: Policy,
    identity: IdentityService,
    jobs: JobQueue,
) -> None:
    """The feature's routing table: its subcommands, buttons and modals."""
    from bot.router import Subcommand
    from commands.lookup.handlers import LookupHandlers
    from commands.lookup.ids import ActionId, CallbackId
    from commands.lookup.search_query import FILTER_USAGE

    handlers = LookupHandlers(service=service, policy=policy, identity=identity, jobs=jobs)
    router.add(
        Subcommand(
            name="owner",
            summary="Who owns a service: the team, its channel and its members.",
            usage="/platform owner SERVICE",
            example="/platform owner payments-api",
            action="lookup.owner",
            handler=handlers.handle_owner,
            aliases=("owns",),
        )
    )
    router.add(
        Subcommand(
            name="oncall",
            summary="Who is on call now and next for a service or a team.",
            usage="/platform oncall SERVICE-OR-TEAM",
            example="/platform oncall payments-api",
            action="lookup.oncall",
            handler=handlers.handle_oncall,
            aliases=("on-call",),
        )
    )
    router.add(
        Subcommand(
            name="service",
            summary="A service's card: owner, on-call, links, and a button to page on-call.",
            usage="/platform service NAME",
            example="/platform service payments-api",
            action="lookup.service",
            handler=handlers.handle_service,
        )
    )
    router.add(
        Subcommand(
            name="catalog",
            summary=(
                "Search the service catalog by name, title, description, tags, type and "
                "lifecycle; narrow it with `kind:api`, `type:service`, `owner:TEAM` or "
                "`lifecycle:production` (commas give several values). `catalog refresh` "
                "re-reads the catalog (admins)."
            ),
            usage=f"/platform catalog QUERY {FILTER_USAGE} | refresh",
            example="/platform catalog payments kind:api",
            action="lookup.catalog",
            handler=handlers.handle_catalog,
        )
    )
    app.action(ActionId.PICK_ENTITY)(handlers.handle_pick)
    app.action(ActionId.OPEN_IN_CATALOG)(handlers.handle_open_in_catalog)
    app.action(ActionId.PAGE_ONCALL)(handlers.handle_page_button)
    app.view(CallbackId.PAGE_REASON)(handlers.handle_page_reason)
    app.view(CallbackId.PAGE_CONFIRM)(handlers.handle_page_confirm)
