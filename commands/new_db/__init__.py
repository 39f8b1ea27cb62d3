"""`/platform new-db`, `dbs` and `drop-db`: self-service databases, caches and queues.

`bot.config` imports `commands.new_db.config` to validate the `databases:` section, so this
package's import must stay light: `register` imports the listeners when it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.identity import IdentityService
    from bot.router import CommandRouter
    from commands.new_db.feature import NewDbFeature


def register(
    app: App, router: CommandRouter, *, feature: NewDbFeature, identity: IdentityService
) -> None:
    """The feature's routing table: its subcommands, buttons and modals."""
    from bot.router import Subcommand
    from commands.new_db.handlers import NEW_DB_USAGE, NewDbHandlers
    from commands.new_db.ids import ActionId, CallbackId, PolicyAction

    handlers = NewDbHandlers(
        service=feature.service,
        form=feature.form,
        approvals=feature.approvals,
        drops=feature.drops,
        reveals=feature.reveals,
        lifecycle=feature.lifecycle,
        identity=identity,
    )
    router.add(
        Subcommand(
            name="new-db",
            summary="Request a database, cache or queue (PostgreSQL, MariaDB, Redis, …).",
            usage=NEW_DB_USAGE,
            example="/platform new-db postgres orders-db --env staging",
            action=PolicyAction.CREATE,
            handler=handlers.handle_new_db,
            mutating=True,
            aliases=("newdb",),
        )
    )
    router.add(
        Subcommand(
            name="dbs",
            summary="Your and your teams' databases: status, tier, owner, expiry.",
            usage="/platform dbs",
            example="/platform dbs",
            action=PolicyAction.LIST,
            handler=handlers.handle_dbs,
        )
    )
    router.add(
        Subcommand(
            name="drop-db",
            summary="Drop one of your databases (asks you to type its name).",
            usage="/platform drop-db NAME",
            example="/platform drop-db orders-db",
            action=PolicyAction.DROP,
            handler=handlers.handle_drop_db,
            mutating=True,
        )
    )
    app.action(ActionId.ENGINE)(handlers.handle_form_change)
    app.action(ActionId.TIER)(handlers.handle_form_change)
    app.action(ActionId.TEAM)(handlers.handle_form_change)
    app.action(ActionId.APPROVE)(handlers.handle_approve)
    app.action(ActionId.DENY)(handlers.handle_deny)
    app.action(ActionId.REVEAL)(handlers.handle_reveal)
    app.action(ActionId.EXTEND)(handlers.handle_extend)
    app.action(ActionId.DROP_NOW)(handlers.handle_drop_now)
    app.view(CallbackId.NEW_DB)(handlers.handle_request_submission)
    app.view(CallbackId.DENY)(handlers.handle_deny_submission)
    app.view(CallbackId.DROP)(handlers.handle_drop_submission)
    app.view(CallbackId.EXTEND)(handlers.handle_extend_submission)
