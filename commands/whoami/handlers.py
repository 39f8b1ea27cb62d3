"""The `/platform whoami` listener: the policy says what the person may run, the view shows it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.core.policy import Policy
from bot.core.router import CommandContext
from commands.whoami import views


class WhoamiHandlers:
    def __init__(self, *, policy: Policy, actions: Callable[[], Iterable[str]]) -> None:
        self._policy = policy
        self._actions = actions

    def handle_whoami(self, ctx: CommandContext) -> None:
        allowed = self._policy.allowed_actions(ctx.principal, self._actions())
        blocks = views.build_whoami(ctx.principal, sorted(allowed))
        ctx.ack(f"You are {ctx.principal.name}", blocks=blocks)
