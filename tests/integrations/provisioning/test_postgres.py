"""PostgresProvisioner against the PostgreSQL server on 127.0.0.1:5432.

That server trusts local connections, so passwords cannot be checked here; isolation is
proved with the CONNECT privilege instead, and the stored password with its SCRAM verifier.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning.postgres import PostgresProvisioner
from integrations.provisioning.postgres_clone import COPYING_MARKER
from integrations.provisioning_protocols import PlanLimits, ResourceSpec
from tests.conftest import POSTGRES_ADMIN_URL
from tests.integrations.provisioning.conftest import ADMIN_SECRET, unused_port

pytestmark = pytest.mark.postgres
MakeSpec = Callable[..., ResourceSpec]


@pytest.fixture
def provisioner() -> PostgresProvisioner:
    return PostgresProvisioner(host="127.0.0.1", port=5432, admin_user="postgres")


@pytest.fixture
def make_spec(provisioner: PostgresProvisioner) -> Iterator[MakeSpec]:
    made: list[ResourceSpec] = []

    def make(name: str, limits: PlanLimits | None = None) -> ResourceSpec:
        spec = ResourceSpec(engine="postgres", name=name, limits=limits or PlanLimits())
        made.append(spec)
        return spec

    yield make
    for spec in made:
        provisioner.drop(spec)


def _provision(provisioner: PostgresProvisioner, spec: ResourceSpec, password: str) -> None:
    provisioner.create_resource(spec)
    provisioner.create_user(spec, password)
    provisioner.grant(spec)


def _admin_query(query: str, *params: object) -> tuple[object, ...] | None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        return conn.execute(query, params).fetchone()


def test_the_role_uses_its_own_database_and_cannot_connect_to_another(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    mine = make_spec(unique_name, PlanLimits(connection_limit=5))
    other = make_spec(f"{unique_name}-2")
    assert not provisioner.exists(mine)
    _provision(provisioner, mine, "first-password")
    _provision(provisioner, other, "other-password")
    assert provisioner.exists(mine)

    creds = provisioner.credentials(mine, "first-password")
    assert (creds.database, creds.username) == (
        mine.name.replace("-", "_"),
        f"{creds.database}_app",
    )
    assert creds.url.startswith(f"postgresql://{creds.username}:first-password@127.0.0.1:5432/")
    assert "first-password" not in repr(creds)

    with psycopg.connect(
        host=creds.host, port=creds.port, user=creds.username, dbname=creds.database
    ) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
        conn.execute("INSERT INTO orders VALUES (1)")
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (1,)
        # No admin power came with it.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE ROLE intruder")

    other_db = other.name.replace("-", "_")
    with pytest.raises(psycopg.OperationalError, match="CONNECT privilege"):
        psycopg.connect(host="127.0.0.1", user=creds.username, dbname=other_db).close()
    # Nor can any other login role reach ours: PUBLIC lost CONNECT.
    with pytest.raises(psycopg.OperationalError, match="CONNECT privilege"):
        psycopg.connect(host="127.0.0.1", user=f"{other_db}_app", dbname=creds.database).close()

    role = _admin_query(
        "SELECT rolconnlimit, rolsuper, rolcreatedb, rolcreaterole, left(rolpassword, 14)"
        " FROM pg_authid WHERE rolname = %s",
        creds.username,
    )
    assert role == (5, False, False, False, "SCRAM-SHA-256$")
    database = _admin_query(
        "SELECT datconnlimit, pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
        creds.database,
    )
    assert database == (5, creds.username)


def test_running_every_step_twice_converges_and_sets_the_new_password(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    spec = make_spec(unique_name, PlanLimits(connection_limit=3))
    _provision(provisioner, spec, "first-password")
    role = spec.name.replace("-", "_") + "_app"
    before = _admin_query("SELECT rolpassword FROM pg_authid WHERE rolname = %s", role)
    _provision(
        provisioner, ResourceSpec("postgres", spec.name, PlanLimits(connection_limit=7)), "second"
    )
    after = _admin_query("SELECT rolpassword, rolconnlimit FROM pg_authid WHERE rolname = %s", role)
    assert after is not None and before is not None
    assert after[0] != before[0]
    assert after[1] == 7
    with psycopg.connect(host="127.0.0.1", user=role, dbname=spec.name.replace("-", "_")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)


def test_drop_removes_database_and_role_and_can_run_again(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    spec = make_spec(unique_name)
    _provision(provisioner, spec, "pw")
    database = spec.name.replace("-", "_")
    # An open session of the app does not block the drop (WITH (FORCE)).
    with psycopg.connect(host="127.0.0.1", user=f"{database}_app", dbname=database):
        provisioner.drop(spec)
    assert _admin_query("SELECT 1 FROM pg_database WHERE datname = %s", database) is None
    assert _admin_query("SELECT 1 FROM pg_roles WHERE rolname = %s", f"{database}_app") is None
    assert not provisioner.exists(spec)
    provisioner.drop(spec)


def test_a_role_with_admin_attributes_is_never_taken_over(
    provisioner: PostgresProvisioner, unique_name: str
) -> None:
    role = unique_name.replace("-", "_") + "_app"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(role)))
    try:
        spec = ResourceSpec("postgres", unique_name, PlanLimits())
        with pytest.raises(ProviderRejected) as caught:
            provisioner.create_user(spec, "would-be-password")
        assert "would-be-password" not in str(caught.value)
        with pytest.raises(ProviderRejected):
            provisioner.drop(spec)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_a_server_that_is_down_is_unavailable_without_secrets_in_the_message(
    unique_name: str,
) -> None:
    down = PostgresProvisioner(port=unused_port(), admin_password=ADMIN_SECRET)
    spec = ResourceSpec("postgres", unique_name, PlanLimits())
    for step in (down.check, lambda: down.create_user(spec, "user-password-123")):
        with pytest.raises(ProviderUnavailable) as caught:
            step()
        message = str(caught.value)
        assert "connection refused" in message
        assert ADMIN_SECRET not in message
        assert "user-password-123" not in message
        assert "postgresql://" not in message


def test_a_refused_admin_login_is_rejected_not_unavailable() -> None:
    # Configuration to fix, not an outage to wait out: the job must not retry it.
    with pytest.raises(ProviderRejected, match="admin role or database missing"):
        PostgresProvisioner(admin_user="no_such_admin_role", admin_password=ADMIN_SECRET).check()


# --- Cloning and masking ---------------------------------------------------------------------

SOURCE_SCHEMA = """
CREATE SCHEMA app;
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, mood mood DEFAULT 'ok');
CREATE TABLE app.events (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text);
CREATE SEQUENCE invoice_numbers;
CREATE VIEW customer_emails AS SELECT email FROM customers;
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql AS 'SELECT upper(t)';
INSERT INTO customers (email) VALUES ('ada@example.com');
INSERT INTO app.events (what) VALUES ('signup');
"""


def _connect_as(database: str, role: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host="127.0.0.1", user=role or f"{database}_app", dbname=database, autocommit=True
    )


def _cloned_pair(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> tuple[ResourceSpec, ResourceSpec]:
    """A provisioned source holding SOURCE_SCHEMA, and the spec of its clone (not made)."""
    source = make_spec(unique_name)
    target = make_spec(f"{unique_name}-copy", PlanLimits(connection_limit=4))
    _provision(provisioner, source, "source-pw")
    with _connect_as(_db(source)) as conn:
        conn.execute(SOURCE_SCHEMA.encode())
    return source, target


def _db(spec: ResourceSpec) -> str:
    return spec.name.replace("-", "_")


def _assert_target_owns_a_full_copy(source: ResourceSpec, target: ResourceSpec) -> None:
    with _connect_as(_db(target)) as conn:
        assert conn.execute("SELECT email, mood::text FROM customers").fetchall() == [
            ("ada@example.com", "ok")
        ]
        conn.execute("INSERT INTO customers (email) VALUES ('bob@example.com')")
        conn.execute("INSERT INTO app.events (what) VALUES ('copied')")
        assert conn.execute("SELECT count(*) FROM customer_emails").fetchone() == (2,)
        assert conn.execute("SELECT shout('hi'), nextval('invoice_numbers')").fetchone() == (
            "HI",
            1,
        )
        conn.execute("ALTER TABLE customers ADD COLUMN note text")  # only an owner may
        conn.execute("CREATE TABLE mine (id int)")
    with _connect_as(_db(target), "postgres") as conn:
        foreign = conn.execute(
            "SELECT count(*) FROM pg_shdepend WHERE dbid = (SELECT oid FROM pg_database"
            " WHERE datname = current_database()) AND refobjid = %s::regrole",
            (f"{_db(source)}_app",),
        ).fetchone()
        assert foreign == (0,), "objects in the copy still depend on the source's role"
    # The source's role cannot even connect to the copy.
    with pytest.raises(psycopg.OperationalError, match="CONNECT privilege"):
        _connect_as(_db(target), f"{_db(source)}_app").close()
    with _connect_as(_db(source)) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM app.events").fetchone() == (1,)
    owner = _admin_query(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", _db(source)
    )
    assert owner == (f"{_db(source)}_app",)


def test_a_clone_is_a_full_copy_that_only_the_target_role_can_use(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    source, target = _cloned_pair(provisioner, make_spec, unique_name)
    provisioner.clone_resource(source, target)
    # Until grant, nobody but the admin may connect (PUBLIC lost CONNECT first).
    with pytest.raises(psycopg.OperationalError, match="CONNECT privilege"):
        _connect_as(_db(target), f"{_db(source)}_app").close()
    provisioner.create_user(target, "target-pw")
    provisioner.grant(target)
    _assert_target_owns_a_full_copy(source, target)
    assert _admin_query(
        "SELECT datconnlimit, datallowconn FROM pg_database WHERE datname = %s", _db(target)
    ) == (4, True)

    provisioner.clone_resource(source, target)  # a re-run converges and copies nothing twice
    provisioner.grant(target)
    with _connect_as(_db(target)) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone() == (2,)

    provisioner.drop(target)
    provisioner.drop(source)
    for database in (_db(source), _db(target)):
        assert _admin_query("SELECT 1 FROM pg_database WHERE datname = %s", database) is None
        assert _admin_query("SELECT 1 FROM pg_roles WHERE rolname = %s", f"{database}_app") is None


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_a_source_in_use_is_copied_through_pg_dump_and_pg_restore(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    source, target = _cloned_pair(provisioner, make_spec, unique_name)
    with _connect_as(_db(source)):  # TEMPLATE refuses a source with open sessions
        provisioner.clone_resource(source, target)
    provisioner.create_user(target, "target-pw")
    provisioner.grant(target)
    _assert_target_owns_a_full_copy(source, target)
    comment = _admin_query(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        _db(target),
    )
    assert comment == (None,)


def test_a_copy_that_did_not_finish_is_made_again(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    source, target = _cloned_pair(provisioner, make_spec, unique_name)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_db(target))))
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(_db(target)), sql.Literal(COPYING_MARKER)
            )
        )
    with _connect_as(_db(target), "postgres") as conn:
        conn.execute("CREATE TABLE half_copied (id int)")
    provisioner.clone_resource(source, target)
    provisioner.create_user(target, "target-pw")
    provisioner.grant(target)
    _assert_target_owns_a_full_copy(source, target)
    with _connect_as(_db(target)) as conn:
        assert conn.execute("SELECT to_regclass('half_copied')").fetchone() == (None,)


def test_without_the_client_tools_a_source_in_use_is_refused_by_name(
    provisioner: PostgresProvisioner,
    make_spec: MakeSpec,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, target = _cloned_pair(provisioner, make_spec, unique_name)
    monkeypatch.setenv("PATH", "/nonexistent")
    with _connect_as(_db(source)), pytest.raises(ProviderRejected, match="pg_dump and pg_restore"):
        provisioner.clone_resource(source, target)
    assert not provisioner.exists(target)


def test_an_empty_source_clones_and_a_missing_one_is_rejected(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    source = make_spec(unique_name)
    target = make_spec(f"{unique_name}-copy")
    with pytest.raises(ProviderRejected, match="does not exist"):
        provisioner.clone_resource(source, target)
    _provision(provisioner, source, "source-pw")
    provisioner.clone_resource(source, target)
    provisioner.create_user(target, "target-pw")
    provisioner.grant(target)
    with _connect_as(_db(target)) as conn:
        conn.execute("CREATE TABLE orders (id int)")


def test_masking_sql_changes_the_copy_all_or_nothing_and_never_the_source(
    provisioner: PostgresProvisioner, make_spec: MakeSpec, unique_name: str
) -> None:
    source, target = _cloned_pair(provisioner, make_spec, unique_name)
    provisioner.clone_resource(source, target)
    provisioner.create_user(target, "target-pw")
    provisioner.grant(target)
    provisioner.run_sql(
        target,
        "UPDATE customers SET email = 'user' || id || '@example.invalid';\n"
        "DELETE FROM app.events; -- no history on copies",
    )
    with _connect_as(_db(target)) as conn:
        assert conn.execute("SELECT email FROM customers").fetchall() == [
            ("user1@example.invalid",)
        ]
        assert conn.execute("SELECT count(*) FROM app.events").fetchone() == (0,)
    with pytest.raises(
        ProviderRejected, match='column "phone" of relation "customers" does not exist'
    ) as caught:
        provisioner.run_sql(
            target, "UPDATE customers SET email = 'x';\nUPDATE customers SET phone = NULL;"
        )
    assert "\n" not in str(caught.value)
    with _connect_as(_db(target)) as conn:  # the first statement was rolled back
        assert conn.execute("SELECT email FROM customers").fetchone() == ("user1@example.invalid",)
    with _connect_as(_db(source)) as conn:
        assert conn.execute("SELECT email FROM customers").fetchone() == ("ada@example.com",)
