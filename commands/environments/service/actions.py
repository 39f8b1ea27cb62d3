"""What the environments feature offers other features as bot actions (`Core.actions`).

`env.extend` is `/platform env extend` without the modal: the same lookup by name (other
people's environments are "not found"), the same checks and policy in `EnvLifecycle.extend`,
and the caller's person as the actor in the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.actions import BotAction
from bot.core.errors import InvalidInput
from bot.core.identity import Principal
from commands.environments.ids import BlockId
from commands.environments.service.lifecycle import EnvLifecycle
from commands.resources.hours import parse_hours

EXTEND = "env.extend"


def bot_actions(lifecycle: EnvLifecycle) -> dict[str, BotAction]:
    def extend(principal: Principal, args: Mapping[str, str]) -> str:
        env = lifecycle.find(principal, args["name"])
        hours, problem = parse_hours(args["hours"], field="Hours", maximum=env.max_ttl_hours)
        if hours is None:
            raise InvalidInput(
                problem or "Hours: give a number of hours.", field=BlockId.EXTEND_HOURS
            )
        extended = lifecycle.extend(principal, env.id, hours, args["reason"])
        expiry = extended.expires_at
        until = expiry.strftime("%Y-%m-%d %H:%M UTC") if expiry is not None else "never"
        return f"{extended.name} extended by {hours:g} h; it now expires {until}"

    return {
        EXTEND: BotAction(
            summary="Extend an environment by a number of hours, with a reason",
            args=("name", "hours", "reason"),
            call=extend,
        )
    }
