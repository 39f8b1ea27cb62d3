"""MariaDBProvisioner against the MariaDB server on 127.0.0.1:3306 (root, no password)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pymysql
import pytest

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.protocols import PlanLimits, ResourceSpec
from integrations.provisioning.mariadb import MariaDBProvisioner
from tests.integrations.provisioning.conftest import ADMIN_SECRET, unused_port
from tests.servers import needs_server

MakeSpec = Callable[..., ResourceSpec]


@pytest.fixture
@needs_server("mariadb")
def provisioner() -> MariaDBProvisioner:
    return MariaDBProvisioner(host="127.0.0.1", port=3306, admin_user="root")


@pytest.fixture
def make_spec(provisioner: MariaDBProvisioner) -> Iterator[MakeSpec]:
    made: list[ResourceSpec] = []

    def make(name: str, limits: PlanLimits | None = None) -> ResourceSpec:
        spec = ResourceSpec(engine="mariadb", name=name, limits=limits or PlanLimits())
        made.append(spec)
        return spec

    yield make
    for spec in made:
        provisioner.drop(spec)


def _admin(query: str, *params: object) -> list[tuple[object, ...]]:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(query, params or None)
            return list(cursor.fetchall())
    finally:
        conn.close()


def _connect(user: str, password: str, database: str | None = None) -> pymysql.Connection:
    return pymysql.connect(
        host="127.0.0.1",
        port=3306,
        user=user,
        password=password,
        database=database,
        autocommit=True,
    )


def _provision(provisioner: MariaDBProvisioner, spec: ResourceSpec, password: str) -> None:
    provisioner.create_resource(spec)
    provisioner.create_user(spec, password)
    provisioner.grant(spec)


@pytest.mark.mariadb
def test_server_has_no_anonymous_users_that_would_shadow_app_users() -> None:
    # With ''@'localhost' present the provisioner also creates user@'localhost'; this
    # machine's server has none, which the tests below rely on for the '%' user alone.
    assert _admin("SELECT user, host FROM mysql.user WHERE user = ''") == []


def test_the_user_uses_its_own_database_only(
    provisioner: MariaDBProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    spec = make_spec(unique_name, PlanLimits(connection_limit=4))
    assert not provisioner.exists(spec)
    _provision(provisioner, spec, "app-password-1")
    assert provisioner.exists(spec)
    creds = provisioner.credentials(spec, "app-password-1")
    assert (creds.database, creds.username) == (
        unique_name.replace("-", "_"),
        f"{creds.database}_app",
    )
    assert "app-password-1" not in repr(creds)

    # GRANT treats `_` as a wildcard: a database that differs only there must stay out of reach.
    lookalike = creds.database.replace("_", "x")
    _admin(f"CREATE DATABASE `{lookalike}`")
    try:
        conn = _connect(creds.username, creds.password, creds.database)
        with conn, conn.cursor() as cursor:
            cursor.execute("CREATE TABLE orders (id INT PRIMARY KEY)")
            cursor.execute("INSERT INTO orders VALUES (1)")
            cursor.execute("SELECT COUNT(*) FROM orders")
            assert cursor.fetchone() == (1,)
            for statement in (f"USE `{lookalike}`", "USE mysql", "CREATE DATABASE intruder"):
                with pytest.raises(pymysql.err.OperationalError) as denied:
                    cursor.execute(statement)
                assert denied.value.args[0] in (1044, 1142), statement
    finally:
        _admin(f"DROP DATABASE IF EXISTS `{lookalike}`")

    with pytest.raises(pymysql.err.OperationalError) as refused:
        _connect(creds.username, "wrong-password")
    assert refused.value.args[0] == 1045
    stored = _admin(
        "SELECT max_user_connections, authentication_string FROM mysql.user WHERE user = %s",
        creds.username,
    )
    assert stored[0][0] == 4
    assert str(stored[0][1]).startswith("*")


def test_running_every_step_twice_converges_and_sets_the_new_password(
    provisioner: MariaDBProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    spec = make_spec(unique_name)
    _provision(provisioner, spec, "first-password")
    _provision(provisioner, spec, "second-password")
    user = unique_name.replace("-", "_") + "_app"
    with pytest.raises(pymysql.err.OperationalError):
        _connect(user, "first-password")
    _connect(user, "second-password", unique_name.replace("-", "_")).close()
    assert len(_admin("SELECT host FROM mysql.user WHERE user = %s", user)) == 1


def test_drop_removes_database_and_user_and_can_run_again(
    provisioner: MariaDBProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    spec = make_spec(unique_name)
    _provision(provisioner, spec, "pw-123456")
    provisioner.drop(spec)
    database = unique_name.replace("-", "_")
    assert (
        _admin("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", database) == []
    )
    assert _admin("SELECT 1 FROM mysql.user WHERE user = %s", f"{database}_app") == []
    assert not provisioner.exists(spec)
    provisioner.drop(spec)


def test_a_server_that_is_down_is_unavailable_without_secrets_in_the_message(
    unique_name: str,
) -> None:
    down = MariaDBProvisioner(port=unused_port(), admin_password=ADMIN_SECRET)
    spec = ResourceSpec("mariadb", unique_name, PlanLimits())
    for step in (down.check, lambda: down.create_user(spec, "user-password-123")):
        with pytest.raises(ProviderUnavailable) as caught:
            step()
        message = str(caught.value)
        assert "cannot reach 127.0.0.1" in message
        assert ADMIN_SECRET not in message
        assert "user-password-123" not in message


@pytest.mark.mariadb
def test_a_refused_admin_login_is_rejected_without_the_password() -> None:
    with pytest.raises(ProviderRejected, match="admin login refused") as caught:
        MariaDBProvisioner(admin_user="root", admin_password=ADMIN_SECRET).check()
    assert ADMIN_SECRET not in str(caught.value)


class _CountingCursor:
    """Answers the anonymous-user count; records the statements it was given."""

    def __init__(self, anonymous: int) -> None:
        self.anonymous = anonymous
        self.statements: list[str] = []

    def execute(self, query: str, args: object = None) -> int:
        self.statements.append(query)
        return 1

    def fetchone(self) -> tuple[int]:
        return (self.anonymous,)


@pytest.mark.parametrize(("anonymous", "hosts"), [(0, ["%"]), (2, ["%", "localhost"])])
def test_anonymous_users_make_the_user_exist_at_localhost_too(
    anonymous: int, hosts: list[str]
) -> None:
    # ''@'localhost' would shadow 'user'@'%' for local logins; creating it on this shared
    # server would break other clients, so the decision is tested on its own.
    cursor = _CountingCursor(anonymous)
    assert MariaDBProvisioner()._hosts(cursor) == hosts  # type: ignore[arg-type]
    assert cursor.statements == ["SELECT COUNT(*) FROM mysql.user WHERE User = ''"]
