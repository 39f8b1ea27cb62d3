"""MariaDBProvisioner against the MariaDB server on 127.0.0.1:3306 (root, no password)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pymysql
import pytest

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning.mariadb import MariaDBProvisioner
from integrations.provisioning_protocols import PlanLimits, ResourceSpec
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


# --- Cloning and masking ---------------------------------------------------------------------


def _db(spec: ResourceSpec) -> str:
    return spec.name.replace("-", "_")


def _rows(user: str, database: str, query: str) -> list[tuple[object, ...]]:
    conn = _connect(user, "pw-" + database, database)
    try:
        with conn.cursor() as cursor:
            cursor.execute(query)
            return list(cursor.fetchall())
    finally:
        conn.close()


def _cloned_pair(
    provisioner: MariaDBProvisioner, make_spec: MakeSpec, unique_name: str
) -> tuple[ResourceSpec, ResourceSpec]:
    """A provisioned source with two tables and a view, and the spec of its clone."""
    source, target = make_spec(unique_name), make_spec(f"{unique_name}-copy")
    _provision(provisioner, source, "pw-" + _db(source))
    for statement in (
        "CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, email varchar(80),"
        " domain varchar(80) AS (substring_index(email, '@', -1)) VIRTUAL)",
        "CREATE TABLE `order lines` (id int PRIMARY KEY, customer int,"
        " FOREIGN KEY (customer) REFERENCES customers (id))",
        "INSERT INTO customers (email) VALUES ('ada@example.com')",
        "INSERT INTO `order lines` VALUES (1, 1)",
        "CREATE VIEW emails AS SELECT email FROM customers",
    ):
        _rows(f"{_db(source)}_app", _db(source), statement)
    return source, target


def test_a_clone_copies_every_table_for_the_target_user_only(
    provisioner: MariaDBProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    source, target = _cloned_pair(provisioner, make_spec, unique_name)
    for _ in range(2):  # a re-run converges: one copy of each row
        provisioner.clone_resource(source, target)
        provisioner.create_user(target, "pw-" + _db(target))
        provisioner.grant(target)
    user, database = f"{_db(target)}_app", _db(target)
    assert _rows(user, database, "SELECT id, email, domain FROM customers") == [
        (1, "ada@example.com", "example.com")
    ]
    assert _rows(user, database, "SELECT * FROM `order lines`") == [(1, 1)]
    _rows(user, database, "INSERT INTO customers (email) VALUES ('bob@example.com')")
    assert _rows(user, database, "SELECT max(id) FROM customers") == [(2,)]
    # Views are not copied (see the docstring); the target user can make its own.
    assert _rows(user, database, "SHOW FULL TABLES WHERE Table_type = 'VIEW'") == []

    with pytest.raises(pymysql.err.OperationalError) as caught:
        _connect(f"{_db(source)}_app", "pw-" + _db(source), database).close()
    assert caught.value.args[0] == 1044
    assert _rows(f"{_db(source)}_app", _db(source), "SELECT count(*) FROM customers") == [(1,)]

    provisioner.drop(target)
    provisioner.drop(source)
    for spec in (source, target):
        assert not provisioner.exists(spec)


def test_an_empty_source_clones_and_a_missing_one_is_rejected(
    provisioner: MariaDBProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    source, target = make_spec(unique_name), make_spec(f"{unique_name}-copy")
    with pytest.raises(ProviderRejected, match="does not exist"):
        provisioner.clone_resource(source, target)
    _provision(provisioner, source, "pw-" + _db(source))
    provisioner.clone_resource(source, target)
    _provision(provisioner, target, "pw-" + _db(target))
    _rows(f"{_db(target)}_app", _db(target), "CREATE TABLE orders (id int)")


def test_masking_sql_changes_the_copy_all_or_nothing_and_never_the_source(
    provisioner: MariaDBProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    source, target = _cloned_pair(provisioner, make_spec, unique_name)
    provisioner.clone_resource(source, target)
    _provision(provisioner, target, "pw-" + _db(target))
    provisioner.run_sql(
        target,
        "UPDATE customers SET email = concat('user', id, '@example.invalid');\n"
        "DELETE FROM `order lines`; -- no history on copies",
    )
    user, database = f"{_db(target)}_app", _db(target)
    assert _rows(user, database, "SELECT email FROM customers") == [("user1@example.invalid",)]
    assert _rows(user, database, "SELECT count(*) FROM `order lines`") == [(0,)]
    with pytest.raises(ProviderRejected, match="Unknown column 'phone'") as caught:
        provisioner.run_sql(
            target, "UPDATE customers SET email = 'x'; UPDATE customers SET phone = 1"
        )
    assert "\n" not in str(caught.value)
    assert _rows(user, database, "SELECT email FROM customers") == [("user1@example.invalid",)]
    source_rows = _rows(f"{_db(source)}_app", _db(source), "SELECT email FROM customers")
    assert source_rows == [("ada@example.com",)]
