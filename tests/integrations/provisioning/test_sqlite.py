"""SqliteProvisioner: database files in a data directory, private to the bot's OS user."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from integrations.errors import ProviderUnavailable
from integrations.protocols import PlanLimits, ResourceSpec
from integrations.provisioning.sqlite import SqliteProvisioner


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_file_is_created_private_usable_and_dropped_completely(tmp_path: Path) -> None:
    data_dir = tmp_path / "dbs"
    provisioner = SqliteProvisioner(data_dir=data_dir)
    spec = ResourceSpec("sqlite", "orders-db", PlanLimits(max_bytes=1024 * 1024))
    provisioner.check()
    assert not provisioner.exists(spec)
    for _ in range(2):  # a second run converges and keeps the data
        provisioner.create_resource(spec)
        provisioner.create_user(spec, "unused")
        provisioner.grant(spec)
        creds = provisioner.credentials(spec, "unused")
        with sqlite3.connect(creds.database) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY)")
            conn.execute("INSERT INTO orders DEFAULT VALUES")
        conn.close()
    path = data_dir / "orders-db.sqlite3"
    assert creds.database == str(path)
    assert creds.url == f"sqlite:///{path}"
    assert "PRAGMA max_page_count = 256" in creds.notes
    assert provisioner.exists(spec)
    assert _mode(data_dir) == 0o700
    assert _mode(path) == 0o600
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (2,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()

    provisioner.drop(spec)
    assert list(data_dir.iterdir()) == []  # no -wal / -shm left behind
    assert not provisioner.exists(spec)
    provisioner.drop(spec)


def test_an_unusable_data_directory_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ProviderUnavailable):
        SqliteProvisioner(data_dir=tmp_path / "file" / "dbs").check()
