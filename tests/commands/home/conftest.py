from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from commands.home.config import HomeSection
from tests.commands.environments.conftest import EnvBot, env_config, running_env_bot
from tests.commands.new_db.conftest import DbBot, example_config, fake_provisioners
from tests.harness import features_with, running_bot


@contextmanager
def _home_bot(tmp_path: Path, schema: Path, *, background: bool) -> Iterator[DbBot]:
    config = example_config(tmp_path)
    config = config.model_copy(update={"home": HomeSection(refresh_seconds=0.1)})
    provisioners = fake_provisioners(tmp_path)
    with running_bot(
        tmp_path,
        config=config,
        schema=schema,
        features=features_with(provisioners=provisioners),
        background=background,
        capture_logs=True,
    ) as running:
        yield DbBot(running, provisioners)


@pytest.fixture
def homebot(tmp_path: Path, migrated_schema: Path) -> Iterator[DbBot]:
    """The real app over signed HTTP with file-backed fake provisioners; App Homes are
    refreshed within a tenth of a second of a change."""
    with _home_bot(tmp_path, migrated_schema, background=True) as bot:
        yield bot


@pytest.fixture
def homebot_paused(tmp_path: Path, migrated_schema: Path) -> Iterator[DbBot]:
    """The same without background work: jobs wait until the test runs them."""
    with _home_bot(tmp_path, migrated_schema, background=False) as bot:
        yield bot


@pytest.fixture
def envhome(tmp_path: Path, migrated_schema: Path) -> Iterator[EnvBot]:
    """The environments test bot, App Homes refreshed within a tenth of a second."""
    config = env_config(tmp_path)
    config = config.model_copy(update={"home": HomeSection(refresh_seconds=0.1)})
    with running_env_bot(tmp_path, migrated_schema, config) as running:
        yield running
