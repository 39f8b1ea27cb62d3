"""SqliteProvisioner: database files in a data directory, private to the bot's OS user."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning.sqlite import SqliteProvisioner
from integrations.provisioning_protocols import PlanLimits, ResourceSpec


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


def test_a_clone_is_a_private_full_copy_and_a_rerun_replaces_it_whole(tmp_path: Path) -> None:
    provisioner = SqliteProvisioner(data_dir=tmp_path)
    source, target = ResourceSpec("sqlite", "orders-db"), ResourceSpec("sqlite", "orders-copy")
    with pytest.raises(ProviderRejected, match="does not exist"):
        provisioner.clone_resource(source, target)
    provisioner.create_resource(source)
    path = tmp_path / "orders-db.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
        conn.execute("INSERT INTO customers (email) VALUES ('ada@example.com')")
        conn.execute("CREATE VIEW emails AS SELECT email FROM customers")
    conn.close()
    with sqlite3.connect(path) as conn:
        # The source is in use while it is copied: its uncommitted row is not in the copy.
        conn.execute("INSERT INTO customers (email) VALUES ('uncommitted@example.com')")
        for _ in range(2):  # the second run converges on one copy
            provisioner.clone_resource(source, target)
            provisioner.create_user(target, "unused")
            provisioner.grant(target)
        conn.rollback()
    conn.close()
    copy = tmp_path / "orders-copy.sqlite3"
    assert _mode(copy) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "orders-copy.sqlite3",
        "orders-db.sqlite3",
    ]
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT email FROM emails").fetchall() == [("ada@example.com",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.execute("INSERT INTO customers (email) VALUES ('bob@example.com')")
    conn.close()

    provisioner.run_sql(target, "UPDATE customers SET email = 'user' || id || '@x.invalid';")
    with pytest.raises(ProviderRejected, match="no such column: phone"):
        provisioner.run_sql(target, "DELETE FROM customers;\nUPDATE customers SET phone = 1;")
    with sqlite3.connect(copy) as conn:  # masked, and the failed script rolled back whole
        assert conn.execute("SELECT email FROM customers").fetchall() == [
            ("user1@x.invalid",),
            ("user2@x.invalid",),
        ]
    conn.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT email FROM customers").fetchall() == [("ada@example.com",)]
    conn.close()
    provisioner.drop(target)
    provisioner.drop(source)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_source_clones(tmp_path: Path) -> None:
    provisioner = SqliteProvisioner(data_dir=tmp_path)
    source, target = ResourceSpec("sqlite", "orders-db"), ResourceSpec("sqlite", "orders-copy")
    provisioner.create_resource(source)
    provisioner.clone_resource(source, target)
    with sqlite3.connect(provisioner.credentials(target, "").database) as conn:
        conn.execute("CREATE TABLE t (id INTEGER)")
    conn.close()
