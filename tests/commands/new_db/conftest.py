from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from bot.runtime.config import PlatformConfig
from bot.runtime.services import Services
from commands.resources.config import EngineKind
from tests.commands.new_db.fakes import FileProvisioner
from tests.harness import BotHarness, features_with, running_bot
from tests.harness import example_config as platform_example

if TYPE_CHECKING:
    from tests.commands.new_db.harness import Harness


@dataclass
class DbBot:
    bot: BotHarness
    provisioners: dict[str, FileProvisioner]

    @property
    def logs(self) -> list[logging.LogRecord]:
        return self.bot.logs

    @property
    def services(self) -> Services:
        return self.bot.services


def example_config(tmp_path: Path, **databases: object) -> PlatformConfig:
    config = platform_example()
    section = config.databases.model_copy(
        update={"data_dir": tmp_path / "data", "provision_attempts": 1, **databases}
    )
    return config.model_copy(update={"databases": section})


ConfigChange = Callable[[PlatformConfig], PlatformConfig]


def fake_provisioners(directory: Path) -> dict[str, FileProvisioner]:
    """A file-backed fake provisioner for every engine, its state in `directory`."""
    return {
        kind.value: FileProvisioner(kind.value, directory / f"{kind.value}.json")
        for kind in EngineKind
    }


@pytest.fixture
def dbbot(tmp_path: Path, migrated_schema: Path, request: pytest.FixtureRequest) -> Iterator[DbBot]:
    """The real app over signed HTTP with file-backed fake provisioners for every engine.

    Parametrize it indirectly with a `ConfigChange` to run on another platform config.
    """
    change: ConfigChange | None = getattr(request, "param", None)
    config = example_config(tmp_path)
    if change is not None:
        config = change(config)
    provisioners = fake_provisioners(tmp_path)
    with running_bot(
        tmp_path,
        config=config,
        schema=migrated_schema,
        features=features_with(provisioners=provisioners),
        capture_logs=True,
    ) as running:
        yield DbBot(running, provisioners)


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> Harness:
    """The feature's services on each app database backend, jobs run in the test's thread."""
    from tests.commands.new_db.harness import build_harness

    return build_harness(engine, tmp_path)
