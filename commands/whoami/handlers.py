"""The `/platform whoami` listener: the router says what the person may run, the view shows it."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.identity import Principal
from bot.core.router import CommandContext, Subcommand
from commands.whoami import views


class WhoamiHandlers:
    def __init__(self, *, commands_for: Callable[[Principal], list[Subcommand]]) -> None:
        self._commands_for = commands_for

    def handle_whoami(self, ctx: CommandContext) -> None:
        commands = sorted(command.name for command in self._commands_for(ctx.principal))
        blocks = views.build_whoami(ctx.principal, commands)
        ctx.ack(f"You are {ctx.principal.name}", blocks=blocks)
