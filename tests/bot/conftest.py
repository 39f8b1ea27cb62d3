from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_config
from bot.local import LocalBot, local_bot
from bot.settings import Settings
from tests.conftest import REPO_ROOT, SPECS_DIR


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[LocalBot]:
    """The real app over real HTTP on the example config, with the Slack emulator."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        platform_config=REPO_ROOT / "platform.example.yaml",
        platform_bot_specs_dir=SPECS_DIR,
    )
    with local_bot(settings, load_config(settings.platform_config, environ={})) as running:
        yield running
