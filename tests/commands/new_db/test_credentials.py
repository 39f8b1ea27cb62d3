"""The credential key: a shared secret, or a file created once, atomically, for one user."""

from __future__ import annotations

import multiprocessing
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.runtime.config import load_config
from commands.resources.config import DatabasesSection
from commands.resources.credentials import (
    KEY_FILE_NAME,
    CredentialBox,
    key_problem,
    load_or_create_key,
)
from tests.concurrency import together
from tests.conftest import REPO_ROOT

RACERS = 8


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    # Threads hand over the interpreter as often as it allows, so a key file seen between
    # its creation and its content would be seen.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_file_and_its_directory_are_private_to_the_bot(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    key = load_or_create_key(data_dir)
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / KEY_FILE_NAME) == 0o600
    CredentialBox(key).seal("usable")
    assert load_or_create_key(data_dir) == key
    # Nothing but the key is left behind (no temporary files).
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE_NAME]


def test_threads_racing_on_a_fresh_directory_all_get_one_whole_key(
    tmp_path: Path, tiny_switch_interval: None
) -> None:
    for attempt in range(100):
        data_dir = tmp_path / f"race-{attempt}"
        keys = together(*[lambda d=data_dir: load_or_create_key(d)] * RACERS)
        # An empty key fails inside Fernet, so a racer that read one shows as an exception.
        assert len(set(map(repr, keys))) == 1, keys
        key = keys[0]
        assert isinstance(key, bytes)
        Fernet(key)  # a whole key, not an empty or partial one
        assert (data_dir / KEY_FILE_NAME).read_bytes().strip() == key


def _race_in_process(data_dir: str, start: Any, results: Any) -> None:
    start.wait()
    try:
        results.put(load_or_create_key(Path(data_dir)))
    except Exception as exc:
        results.put(repr(exc))


@pytest.mark.slow
def test_processes_racing_on_a_fresh_directory_all_get_one_whole_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")  # no re-import: the racers start together
    for attempt in range(5):
        data_dir = tmp_path / f"race-{attempt}"
        start, results = context.Barrier(RACERS), context.Queue()
        racers = [
            context.Process(target=_race_in_process, args=(str(data_dir), start, results))
            for _ in range(RACERS)
        ]
        for racer in racers:
            racer.start()
        keys = [results.get(timeout=30) for _ in racers]
        for racer in racers:
            racer.join(timeout=30)
        assert len(set(keys)) == 1, keys
        assert isinstance(keys[0], bytes)
        Fernet(keys[0])


def test_an_existing_key_file_that_is_not_a_key_is_refused_with_its_path(
    tmp_path: Path,
) -> None:
    tmp_path.joinpath(KEY_FILE_NAME).write_bytes(b"")
    with pytest.raises(ValueError, match=f"{KEY_FILE_NAME} does not hold a Fernet key"):
        load_or_create_key(tmp_path)


def test_a_stricter_umask_is_kept(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        load_or_create_key(tmp_path / "data")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "data" / KEY_FILE_NAME) == 0o600


def _section(secret_key: str | None, *, engines: bool = True) -> DatabasesSection:
    section = load_config(REPO_ROOT / "platform.example.yaml", environ={}).databases
    return section.model_copy(
        update={
            "secret_key": SecretStr(secret_key) if secret_key is not None else None,
            "engines": section.engines if engines else {},
        }
    )


def test_a_shared_app_database_needs_a_shared_key() -> None:
    problem = key_problem(_section(None), shared_database=True)
    assert problem is not None
    assert "PostgreSQL" in problem and "Fernet.generate_key()" in problem
    assert key_problem(_section(Fernet.generate_key().decode()), shared_database=True) is None


def test_one_process_on_sqlite_may_keep_the_key_file() -> None:
    assert key_problem(_section(None), shared_database=False) is None


def test_without_engines_no_key_is_needed() -> None:
    assert key_problem(_section(None, engines=False), shared_database=True) is None


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize(
    "bad",
    ["", "not-a-key", Fernet.generate_key().decode()[:-2]],
    ids=["empty", "not-a-key", "cut-short"],  # the same ids in every process (pytest -n)
)
def test_a_secret_key_that_is_no_fernet_key_is_refused_without_quoting_it(
    bad: str, shared: bool
) -> None:
    problem = key_problem(_section(bad), shared_database=shared)
    assert problem is not None and "not a Fernet key" in problem
    assert not bad or bad not in problem
