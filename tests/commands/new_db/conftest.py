from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from bot.runtime.config import PlatformConfig, load_config
from bot.runtime.local import LocalBot, local_bot
from bot.runtime.services import build_services
from bot.runtime.settings import Settings
from commands.new_db.config import EngineKind
from tests.commands.new_db.fakes import FileProvisioner
from tests.conftest import REPO_ROOT, SPECS_DIR
from tests.harness import features_with

if TYPE_CHECKING:
    from tests.commands.new_db.harness import Harness


@dataclass
class DbBot:
    bot: LocalBot
    provisioners: dict[str, FileProvisioner]
    logs: list[logging.LogRecord]

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.bot.services


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


def example_config(tmp_path: Path, **databases: object) -> PlatformConfig:
    config = load_config(REPO_ROOT / "platform.example.yaml", environ={})
    section = config.databases.model_copy(
        update={"data_dir": tmp_path / "data", "provision_attempts": 1, **databases}
    )
    return config.model_copy(update={"databases": section})


ConfigChange = Callable[[PlatformConfig], PlatformConfig]


@pytest.fixture
def dbbot(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[DbBot]:
    """The real app over signed HTTP with file-backed fake provisioners for every engine.

    Parametrize it indirectly with a `ConfigChange` to run on another platform config.
    """
    change: ConfigChange | None = getattr(request, "param", None)
    config = example_config(tmp_path)
    if change is not None:
        config = change(config)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        platform_config=REPO_ROOT / "platform.example.yaml",
        platform_bot_specs_dir=SPECS_DIR,
    )
    provisioners = {
        kind.value: FileProvisioner(kind.value, tmp_path / f"{kind.value}.json")
        for kind in EngineKind
    }
    records: list[logging.LogRecord] = []
    handler = _Collect(records)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    build = functools.partial(build_services, features=features_with(provisioners=provisioners))
    try:
        with local_bot(settings, config, build=build) as running:
            yield DbBot(running, provisioners, records)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@pytest.fixture
def harness(engine: Engine, tmp_path: Path) -> Harness:
    """The feature's services on each app database backend, jobs run in the test's thread."""
    from tests.commands.new_db.harness import build_harness

    return build_harness(engine, tmp_path)
