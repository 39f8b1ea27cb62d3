"""A feature for runtime tests: listeners and subcommands that fail on request.

Tests set `probe.failures[name]` to the exception a listener or subcommand raises; with no
failure queued it answers normally. The bot runs only this feature (plus the runtime's own
`/platform jobs`), on the example config, behind the real app and the Slack emulator.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.router import CommandContext, Subcommand
from tests.harness import BotHarness, running_bot

SUBMIT = "probe-form"
CLICK = "probe-click"
PICK = "probe-pick"
NAME_BLOCK = "probe-name"
NAME_ACTION = "name"
# Everyone may run `whoami` in the example config.
ACTION = "whoami"


@dataclass
class Probe:
    failures: dict[str, Exception] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    hold: threading.Event | None = None
    """While set to an unset event, `/platform change` keeps running after its answer."""

    def _run(self, name: str) -> None:
        self.runs.append(name)
        failure = self.failures.get(name)
        if failure is not None:
            raise failure

    def handle_change(self, ctx: CommandContext) -> None:
        self._run("change")
        ctx.ack(f"Changed {len(self.runs)} time(s).")
        if self.hold is not None:
            self.hold.wait(timeout=10)

    def handle_submission(self, ack: Ack, body: dict[str, Any]) -> None:
        self._run(SUBMIT)
        ack()

    def handle_click(self, ack: Ack, body: dict[str, Any]) -> None:
        self._run(CLICK)
        ack()

    def handle_pick(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        self._run(PICK)
        ack()


@dataclass(frozen=True)
class ProbeFeature:
    probe: Probe
    name: str = "probe"
    sections: Sequence[ConfigSection] = ()
    models: str | None = None
    migrations: Path | None = None

    def build(self, core: Core) -> Parts[Probe]:
        probe = self.probe
        return Parts(
            api=probe,
            subcommands=[
                Subcommand(
                    name="change",
                    summary="Changes something.",
                    usage="/platform change",
                    example="/platform change",
                    action=ACTION,
                    handler=probe.handle_change,
                    mutating=True,
                )
            ],
            listeners=[
                Listener(ListenerKind.VIEW, SUBMIT, probe.handle_submission),
                Listener(ListenerKind.ACTION, CLICK, probe.handle_click),
                Listener(ListenerKind.ACTION, PICK, probe.handle_pick),
            ],
        )


@contextmanager
def probe_bot(directory: Path, *, schema: Path | None = None) -> Iterator[tuple[BotHarness, Probe]]:
    """The real app over real HTTP with the emulator, running only the probe feature."""
    probe = Probe()
    with running_bot(
        directory, schema=schema, features=(ProbeFeature(probe),), background=False
    ) as running:
        yield running, probe
