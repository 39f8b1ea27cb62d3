"""The environments feature on the real app, driven through the emulator, with file-backed
fake provisioners (the real servers' tests are in test_real_*.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.runtime.config import PlatformConfig
from bot.runtime.services import Services
from commands.environments.feature import Environments
from tests.commands.new_db.conftest import fake_provisioners
from tests.commands.new_db.fakes import FileProvisioner
from tests.harness import BotHarness, features_with, running_bot
from tests.harness import example_config as platform_example

ConfigChange = Callable[[PlatformConfig], PlatformConfig]


@dataclass
class EnvBot:
    bot: BotHarness
    provisioners: dict[str, FileProvisioner]

    @property
    def services(self) -> Services:
        return self.bot.services

    @property
    def api(self) -> Environments:
        api = self.bot.feature("environments")
        assert isinstance(api, Environments)
        return api

    @property
    def logs(self) -> list[logging.LogRecord]:
        return self.bot.logs


def env_config(tmp_path: Path, **environments: object) -> PlatformConfig:
    """The example config, its data under `tmp_path`, one attempt per job."""
    config = platform_example()
    databases = config.databases.model_copy(update={"data_dir": tmp_path / "data"})
    section = config.environments.model_copy(update={"create_attempts": 1, **environments})
    return config.model_copy(update={"databases": databases, "environments": section})


@pytest.fixture
def envbot(
    tmp_path: Path, migrated_schema: Path, request: pytest.FixtureRequest
) -> Iterator[EnvBot]:
    """The real app over signed HTTP; parametrize indirectly with a `ConfigChange`."""
    change: ConfigChange | None = getattr(request, "param", None)
    config = env_config(tmp_path)
    if change is not None:
        config = change(config)
    with running_env_bot(tmp_path, migrated_schema, config) as running:
        yield running


@contextmanager
def running_env_bot(tmp_path: Path, schema: Path, config: PlatformConfig) -> Iterator[EnvBot]:
    """The real app on `config`, environments (and new-db) with file-backed provisioners."""
    provisioners = fake_provisioners(tmp_path)
    with running_bot(
        tmp_path,
        config=config,
        schema=schema,
        features=features_with(provisioners=provisioners),
        capture_logs=True,
    ) as running:
        yield EnvBot(running, provisioners)
