"""The one way tests run the whole bot: the Slack emulator plus the real app over signed HTTP
(or, with `transport=Transport.SOCKET`, connected over Socket Mode).

    with running_bot(tmp_path, schema=migrated_schema, features=features_with(...)) as bot:
        bot.signer.slash_command("U0BOB", "help")

`running_bot` is `bot.runtime.local.local_bot` with what tests choose: the platform config
(the example one unless given), the emulator's workspace, a test `Clock`, features with fake
adapters (`features_with`), background work (job runner, scheduler) on or off, and log capture.
Given `schema` (the session's migrated SQLite file, fixture `migrated_schema`) it starts on a
copy of it, so Alembic has nothing left to run.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.feature import Feature
from bot.emulator import Emulator, RateLimits, SlackSigner, Workspace
from bot.emulator.emulator import SLACK_RATE_LIMITS
from bot.emulator.state import Message
from bot.runtime.config import PlatformConfig, load_config
from bot.runtime.features import FEATURES
from bot.runtime.local import Transport, local_bot
from bot.runtime.services import Role, Services, build_services
from bot.runtime.settings import Settings
from integrations.provisioning_protocols import Provisioner, SecretStore
from tests.clock import Clock
from tests.conftest import REPO_ROOT, SPECS_DIR

EXAMPLE_CONFIG = REPO_ROOT / "platform.example.yaml"

TEST_RATE_LIMITS = SLACK_RATE_LIMITS.scaled(0.2)
"""Slack's allowances in windows a fifth as long: five messages to one channel a second.

The emulator still answers 429 with a Retry-After and the client still waits it out. But jobs
that post a burst to one channel, still running when a test ends, no longer hold its teardown
(which lets them finish) through Slack's five-second per-channel window. A test about the
limits themselves passes `rate_limits=SLACK_RATE_LIMITS`.
"""


@functools.cache
def example_config() -> PlatformConfig:
    """platform.example.yaml, parsed once per process (the sections are frozen models)."""
    return load_config(EXAMPLE_CONFIG, environ={})


def features_with(
    *,
    provisioners: Mapping[str, Provisioner] | None = None,
    secret_store: SecretStore | None = None,
) -> tuple[Feature[Any], ...]:
    """`FEATURES`, with new-db and environments using `provisioners` and `secret_store`
    instead of real ones."""
    changes: dict[str, Any] = {}
    if provisioners is not None:
        changes["provisioners"] = lambda _section, _core: provisioners
    if secret_store is not None:
        changes["secrets"] = lambda _section, _core: secret_store
    environments = dict(changes)  # the same adapters for both resource features
    return tuple(
        dataclasses.replace(feature, **changes)  # type: ignore[type-var]
        if feature.name == "new-db" and changes
        else dataclasses.replace(feature, **environments)  # type: ignore[type-var]
        if feature.name == "environments" and environments
        else feature
        for feature in FEATURES
    )


@dataclass
class BotHarness:
    """A running bot: drive it through `signer`, watch Slack through `emulator`."""

    emulator: Emulator
    services: Services
    signer: SlackSigner
    app_url: str
    clock: Clock | None = None
    """The bot's clock when the test set one; None when the bot reads the real time."""
    logs: list[logging.LogRecord] = field(default_factory=list)
    """Every log record while the bot ran, when started with `capture_logs`."""

    def feature(self, name: str) -> Any:
        return self.services.feature(name)

    def run_jobs(self) -> int:
        """Run due jobs in this thread until none is left; how many ran."""
        ran = 0
        while self.services.runner.run_once():
            ran += 1
        return ran

    def dm_messages(self, user_id: str) -> list[Message]:
        channel = self.emulator.state.dm_channel(user_id)
        return [] if channel is None else self.emulator.state.messages(channel)


@contextmanager
def running_bot(
    directory: Path,
    *,
    config: PlatformConfig | None = None,
    config_path: Path = EXAMPLE_CONFIG,
    schema: Path | None = None,
    workspace: Workspace | None = None,
    clock: Clock | None = None,
    features: Sequence[Feature[Any]] = FEATURES,
    background: bool = True,
    capture_logs: bool = False,
    rate_limits: RateLimits | None = TEST_RATE_LIMITS,
    database_url: str | None = None,
    role: Role = Role.ALL_IN_ONE,
    transport: Transport = Transport.HTTP,
) -> Iterator[BotHarness]:
    """The bot on `config` (the example config if None) with its database in `directory`
    (or at `database_url`, migrated at start).

    `config_path` is where relative paths in the config are read from. Without `background`
    nothing runs jobs or scheduled tasks: the test calls `run_jobs()` and the tasks itself.
    With `role=Role.REQUESTS` the bot serves as `serve` does beside workers (jobs.run_in).
    """
    database = directory / "bot.db"
    if schema is not None:
        shutil.copyfile(schema, database)
    settings = Settings(
        database_url=database_url or f"sqlite:///{database}",
        platform_config=config_path,
        platform_bot_specs_dir=SPECS_DIR,
    )
    emulator = Emulator(
        workspace=workspace,
        spec_dir=SPECS_DIR if SPECS_DIR.is_dir() else None,
        rate_limits=rate_limits,
    )
    build: Any = functools.partial(build_services, features=features)
    if clock is not None:
        build = functools.partial(build, clock=clock)
    records: list[logging.LogRecord] = []
    with (
        _captured(records, capture_logs),
        emulator,
        local_bot(
            settings,
            config if config is not None else example_config(),
            emulator=emulator,
            background=background,
            build=build,
            role=role,
            transport=transport,
        ) as running,
    ):
        yield BotHarness(
            emulator=running.emulator,
            services=running.services,
            signer=running.signer,
            app_url=running.app_url,
            clock=clock,
            logs=records,
        )


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@contextmanager
def _captured(records: list[logging.LogRecord], enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    handler = _Collect(records)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
