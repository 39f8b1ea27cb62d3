"""`/platform whoami`: the worked example of a feature (see README, "Extending").

Its files are the standard ones: this Feature object, `handlers.py` (the listener) and
`views.py` (the Block Kit builder, tested in tests/commands/whoami/test_views.py). It has no
config section, no tables and no background work, so no config.py, models.py or jobs.py; and
no service: the one decision, which commands the person may run, is the router's (the same
list their help shows), which the handler calls as a feature's handler calls its service.
`build` returns one subcommand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.feature import ConfigSection, Core, Parts
from bot.core.router import Subcommand
from commands.whoami.handlers import WhoamiHandlers


@dataclass(frozen=True)
class WhoamiFeature:
    name: str = "whoami"
    sections: Sequence[ConfigSection] = ()
    models: str | None = None
    migrations: Path | None = None

    def build(self, core: Core) -> Parts[WhoamiHandlers]:
        handlers = WhoamiHandlers(commands_for=core.commands_for)
        return Parts(
            api=handlers,
            subcommands=[
                Subcommand(
                    name="whoami",
                    summary="Your teams, roles and the platform actions you may run.",
                    usage="/platform whoami",
                    example="/platform whoami",
                    action="whoami",
                    handler=handlers.handle_whoami,
                    aliases=("me",),
                )
            ],
        )


FEATURE = WhoamiFeature()
