from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import BotHarness, running_bot


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[BotHarness]:
    """The real app over real HTTP on the example config, with the Slack emulator."""
    with running_bot(tmp_path, schema=migrated_schema) as running:
        yield running


@pytest.fixture(scope="module")
def quiet_bot(
    tmp_path_factory: pytest.TempPathFactory, migrated_schema: Path
) -> Iterator[BotHarness]:
    """One bot for a whole module, without background work (jobs, leader election)."""
    with running_bot(
        tmp_path_factory.mktemp("bot"), schema=migrated_schema, background=False
    ) as running:
        yield running


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that call `main()`: it installs its handler on the root logger, writing to
    the test's captured stderr; left there, later tests would log into a closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
