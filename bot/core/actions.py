"""The bot's own actions, by name, for a feature that calls into another (a runbook's `bot`
step extends an environment).

Features may not import each other, so the feature that can do a thing offers it in its
parts (`Parts.actions`, e.g. environments' `env.extend`); the runtime adds every offer to the
one `BotActions` every feature gets as `Core.actions`. A caller names the actions it will call
while it is built (`expect`), before every feature is built; once all are, the runtime asks
`unmet()` and refuses to start when a call names an action nobody offers or arguments the
action does not take. An action runs as the acting person: the offering feature's own
checks and policy apply, and it refuses with the core domain errors (`NotAllowed`,
`NotFound`, `InvalidInput`, `Conflict`) whose messages are shown to that person.

    core.actions.call("env.extend", runner, {"name": "orders-x", "hours": "24", "reason": "…"})
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from bot.core.errors import NotFound
from bot.core.identity import Principal


@dataclass(frozen=True)
class BotAction:
    """One action: what it does in a line, the arguments it takes (all required, all
    strings), and the call, which returns what it did in plain words."""

    summary: str
    args: tuple[str, ...]
    call: Callable[[Principal, Mapping[str, str]], str]


@dataclass(frozen=True)
class _Expected:
    name: str
    args: frozenset[str]
    where: str


class BotActions:
    """Every feature's offered actions, by name; and the calls features said they will make."""

    def __init__(self) -> None:
        self._actions: dict[str, BotAction] = {}
        self._expected: list[_Expected] = []
        self._lock = threading.Lock()

    def offer(self, actions: Mapping[str, BotAction]) -> None:
        with self._lock:
            for name, action in actions.items():
                if name in self._actions:
                    raise ValueError(f"two features offer the bot action {name!r}")
                self._actions[name] = action

    def names(self) -> list[str]:
        return sorted(self._actions)

    def expect(self, name: str, args: Collection[str], *, where: str) -> None:
        """Note a call the caller will make; `where` (e.g. `file:line: key`) starts its
        problem when it does not fit what is offered."""
        with self._lock:
            self._expected.append(_Expected(name, frozenset(args), where))

    def unmet(self) -> list[str]:
        """Every expected call that names no offered action or does not fit its arguments."""
        known = ", ".join(self.names()) or "none"
        problems: list[str] = []
        for expected in self._expected:
            action = self._actions.get(expected.name)
            if action is None:
                problems.append(
                    f"{expected.where}: no bot action {expected.name!r} (known: {known})"
                )
                continue
            missing = sorted(set(action.args) - expected.args)
            unknown = sorted(expected.args - set(action.args))
            if missing or unknown:
                wrong = "; ".join(
                    part
                    for part in (
                        f"missing {', '.join(missing)}" if missing else "",
                        f"unknown {', '.join(unknown)}" if unknown else "",
                    )
                    if part
                )
                problems.append(
                    f"{expected.where}: {expected.name} takes {', '.join(action.args)} ({wrong})"
                )
        return problems

    def call(self, name: str, principal: Principal, args: Mapping[str, str]) -> str:
        """Run action `name` as `principal`; raises the action's domain errors."""
        action = self._actions.get(name)
        if action is None:
            raise NotFound(f"The bot has no action `{name[:60]}` (is its feature turned on?).")
        return action.call(principal, args)
