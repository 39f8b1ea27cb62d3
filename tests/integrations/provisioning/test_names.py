"""Names are validated before any I/O, and map to identifiers every engine accepts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from integrations.errors import ProviderRejected
from integrations.provisioning import names, new_password, scrub
from integrations.provisioning.mariadb import MariaDBProvisioner
from integrations.provisioning.nats import NatsProvisioner
from integrations.provisioning.postgres import PostgresProvisioner
from integrations.provisioning.rabbitmq import RabbitMQProvisioner
from integrations.provisioning.redis import RedisProvisioner
from integrations.provisioning.sqlite import SqliteProvisioner
from integrations.provisioning_protocols import PlanLimits, Provisioner, ResourceSpec
from tests.integrations.provisioning.conftest import HOSTILE_NAMES, unused_port


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_and_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(ProviderRejected) as caught:
        names.validate("postgres", name)
    assert caught.value.provider == "postgres"
    # The message quotes at most 40 characters, with repr, so no newline reaches a log line.
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("name", ["abc", "orders-db", "a1-b2-c3", "x" * 31, "a--b"])
def test_valid_names_pass(name: str) -> None:
    assert names.validate("redis", name) == name


def test_identifiers_for_the_longest_name_fit_every_engine() -> None:
    name = "a" + "-b" * 15  # 31 characters, the longest valid name
    assert names.validate("postgres", name) == name
    assert len(names.sql_database(name).encode()) <= 63  # PostgreSQL truncates beyond 63
    assert len(names.sql_user(name).encode()) <= 63  # and MariaDB allows db 64, user 80
    assert names.sql_database("orders-db") == "orders_db"
    assert names.sql_user("orders-db") == "orders_db_app"
    assert names.stream_name("orders-db") == "ORDERS_DB"
    assert names.key_prefix("orders-db") == "orders-db:"
    assert names.subject_prefix("orders-db") == "orders-db."
    assert names.sqlite_file("orders-db") == "orders-db.sqlite3"


def test_new_passwords_are_long_url_safe_and_different() -> None:
    first, second = new_password(), new_password()
    assert first != second
    assert len(first) == 32
    assert first.replace("-", "").replace("_", "").isalnum()


def test_scrub_replaces_every_secret() -> None:
    assert scrub("user pw1 said pw2 twice pw1", "pw1", "pw2", "") == "user *** said *** twice ***"


def _unreachable_provisioners(tmp_path: Path) -> list[Provisioner]:
    """Every engine pointed at a port with nothing behind it: any I/O would fail Unavailable."""
    port = unused_port()
    return [
        PostgresProvisioner(port=port),
        MariaDBProvisioner(port=port),
        RedisProvisioner(port=port),
        RabbitMQProvisioner(httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=1)),
        NatsProvisioner(port=port),
        # A data directory that cannot be created: under a file.
        SqliteProvisioner(data_dir=tmp_path / "file" / "data"),
    ]


@pytest.mark.parametrize("name", ['x"; DROP TABLE users; --', "Orders", "a" * 64, "postgres"])
def test_every_step_refuses_a_bad_name_before_any_io(tmp_path: Path, name: str) -> None:
    (tmp_path / "file").write_text("")
    for provisioner in _unreachable_provisioners(tmp_path):
        spec = ResourceSpec(engine=provisioner.engine, name=name, limits=PlanLimits())
        steps = [
            lambda p=provisioner, s=spec: p.exists(s),
            lambda p=provisioner, s=spec: p.create_resource(s),
            lambda p=provisioner, s=spec: p.create_user(s, "pw"),
            lambda p=provisioner, s=spec: p.grant(s),
            lambda p=provisioner, s=spec: p.credentials(s, "pw"),
            lambda p=provisioner, s=spec: p.drop(s),
        ]
        for step in steps:
            # ProviderRejected, not ProviderUnavailable: the server was never contacted.
            with pytest.raises(ProviderRejected) as caught:
                step()
            assert "name" in caught.value.message, provisioner.engine
