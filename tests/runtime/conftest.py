from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.runtime.config import load_config
from bot.runtime.local import LocalBot, local_bot
from bot.runtime.settings import Settings
from tests.conftest import REPO_ROOT, SPECS_DIR


@contextmanager
def example_bot(directory: Path, *, background: bool = True) -> Iterator[LocalBot]:
    """The real app over real HTTP on the example config, with the Slack emulator."""
    settings = Settings(
        database_url=f"sqlite:///{directory / 'bot.db'}",
        platform_config=REPO_ROOT / "platform.example.yaml",
        platform_bot_specs_dir=SPECS_DIR,
    )
    config = load_config(settings.platform_config, environ={})
    with local_bot(settings, config, background=background) as running:
        yield running


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[LocalBot]:
    with example_bot(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def quiet_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBot]:
    """One bot for a whole module, without background work (jobs, leader election)."""
    with example_bot(tmp_path_factory.mktemp("bot"), background=False) as running:
        yield running
