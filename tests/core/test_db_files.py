"""The app's SQLite file and its directory are private to the bot's OS user."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.db import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_something(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        # While a connection is open, SQLite keeps the WAL and shared-memory files.
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM t")).all()
            database = Path(url.removeprefix("sqlite:///"))
            for side in ("-wal", "-shm"):
                side_file = database.with_name(database.name + side)
                assert _mode(side_file) == 0o600, side
    finally:
        engine.dispose()


def test_a_new_database_file_and_its_new_directory_are_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.db"
    _write_something(f"sqlite:///{database}")
    assert _mode(database.parent) == 0o700
    assert _mode(database) == 0o600


def test_a_world_readable_existing_file_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    database.touch()
    os.chmod(database, 0o644)
    for side in ("-wal", "-shm"):  # left by an earlier release
        database.with_name(database.name + side).touch(mode=0o666)
    make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600
    for side in ("-wal", "-shm"):
        assert _mode(database.with_name(database.name + side)) == 0o600


@pytest.mark.parametrize("stricter", [0o400, 0o200, 0o000])
def test_an_existing_file_with_a_stricter_mode_keeps_it(tmp_path: Path, stricter: int) -> None:
    database = tmp_path / "bot.db"
    database.touch()
    os.chmod(database, stricter)
    make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == stricter


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    _write_something(f"sqlite:///{shared / 'bot.db'}")
    assert _mode(shared) == 0o755
    assert _mode(shared / "bot.db") == 0o600


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_databases_create_no_file(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
    assert list(tmp_path.iterdir()) == []
