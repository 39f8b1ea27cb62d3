"""`/platform whoami`: what the bot knows about you and what the policy lets you run."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.policy import Policy
from bot.router import CommandRouter, Subcommand
from commands.whoami.handlers import WhoamiHandlers


def register(
    router: CommandRouter, *, policy: Policy, actions: Callable[[], Iterable[str]]
) -> None:
    handlers = WhoamiHandlers(policy=policy, actions=actions)
    router.add(
        Subcommand(
            name="whoami",
            summary="Your teams, roles and the platform actions you may run.",
            usage="/platform whoami",
            example="/platform whoami",
            action="whoami",
            handler=handlers.handle_whoami,
            aliases=("me",),
        )
    )
