"""PostgreSQL databases: a login role with a generated password and a database it owns.

Per resource `orders-db`: role `orders_db_app` (NOSUPERUSER NOCREATEDB NOCREATEROLE
NOINHERIT NOREPLICATION NOBYPASSRLS, CONNECTION LIMIT from the plan) and database
`orders_db` (owned by that role, CONNECTION LIMIT from the plan) with every privilege revoked
from PUBLIC, so no other role can connect to it, and schema `public` owned by the role with
PUBLIC's USAGE revoked. Passwords reach the server only as a SCRAM-SHA-256 verifier computed
by libpq, so the plaintext never appears in the server's statement log.

Identifiers are quoted by `psycopg.sql.Identifier` and values by `sql.Literal` (DDL takes no
placeholders), after `names.validate`.

Cloning (`clone_resource`, in `postgres_clone`) copies the whole database on the same
server; `grant` then hands every copied object to the target's role, and `run_sql` runs a
template's masking script on the copy as the admin, in one transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
from psycopg import sql

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning import names, postgres_clone, scrub
from integrations.provisioning_protocols import Credentials, PlanLimits, ResourceSpec

ENGINE = "postgres"

# SQLSTATE classes that mean "the server cannot serve us now" rather than "it said no":
# 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown,
# cannot_connect_now), 58 system error.
_UNAVAILABLE_CLASSES = ("08", "53", "57", "58")


class PostgresProvisioner:
    """Provisions on one PostgreSQL server as an admin role that may CREATEDB and CREATEROLE.

    `public_host` / `public_port` are what users are told to connect to, when that differs
    from the address the bot uses (a proxy, a service name).
    """

    engine = ENGINE

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5432,
        admin_user: str = "postgres",
        admin_password: str = "",
        admin_database: str = "postgres",
        public_host: str | None = None,
        public_port: int | None = None,
        connect_timeout_seconds: int = 5,
        clone_timeout_seconds: int = 3600,
    ) -> None:
        self._host = host
        self._port = port
        self._admin_user = admin_user
        self._admin_password = admin_password
        self._admin_database = admin_database
        self._public_host = public_host or host
        self._public_port = public_port or port
        self._connect_timeout = max(1, connect_timeout_seconds)
        self._clone_timeout = max(1, clone_timeout_seconds)

    def check(self) -> None:
        with self._admin("check") as conn:
            conn.execute("SELECT 1")

    def exists(self, spec: ResourceSpec) -> bool:
        database, role = self._names(spec)
        with self._admin("exists") as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s)"
                " OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)",
                (database, role),
            ).fetchone()
        return bool(row and row[0])

    def create_resource(self, spec: ResourceSpec) -> None:
        database, _ = self._names(spec)
        limit = sql.Literal(_connection_limit(spec.limits))
        with self._admin("create database") as conn:
            if not _database_exists(conn, database):
                # A concurrent run may create it first: then converge below.
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} CONNECTION LIMIT {}").format(
                            sql.Identifier(database), limit
                        )
                    )
            conn.execute(
                sql.SQL("ALTER DATABASE {} CONNECTION LIMIT {}").format(
                    sql.Identifier(database), limit
                )
            )
            # Before anything else: between here and `grant` nobody but the admin may connect.
            conn.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database))
            )
        with self._admin("lock down schema public", database=database) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        """Create `target`'s database as a copy of `source`'s: every schema, table, row,
        sequence, view, routine, type and extension in it (see `postgres_clone`).

        The copied objects are owned by the source's role (or the admin) until `grant`,
        which the cloning job runs after `create_user`, gives them to the target's role;
        until then no role but the admin can connect to the copy.
        """
        source_db, _ = self._names(source)
        target_db, _ = self._names(target)
        login = postgres_clone.AdminLogin(
            host=self._host,
            port=self._port,
            user=self._admin_user,
            password=self._admin_password,
            connect_timeout=self._connect_timeout,
            copy_timeout=self._clone_timeout,
        )
        postgres_clone.clone_database(
            self._admin,
            login,
            source=source_db,
            target=target_db,
            connection_limit=_connection_limit(target.limits),
        )

    def run_sql(self, spec: ResourceSpec, sql_text: str) -> None:
        """Run `sql_text` (any number of statements) in `spec`'s database, all or nothing.

        It runs as the admin: objects it creates belong to the admin until the next `grant`.
        """
        database, _ = self._names(spec)
        with self._admin("run SQL", database=database) as conn, conn.transaction():
            # Without parameters psycopg sends the text as one simple query, which may hold
            # several statements; bytes because the text is not a literal of ours.
            conn.execute(sql_text.encode())

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        _, role = self._names(spec)
        limit = sql.Literal(_connection_limit(spec.limits))
        attributes = sql.SQL(
            "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
        )
        with self._admin("create role", secrets=(password,)) as conn:
            verifier = sql.Literal(_scram_verifier(conn, role, password))
            existing = conn.execute(
                "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication"
                " OR rolbypassrls FROM pg_roles WHERE rolname = %s",
                (role,),
            ).fetchone()
            if existing is not None and existing[0]:
                raise ProviderRejected(
                    ENGINE, f"role {role} exists with admin attributes; refusing to change it"
                )
            if existing is None:
                try:
                    conn.execute(
                        sql.SQL("CREATE ROLE {} {} PASSWORD {} CONNECTION LIMIT {}").format(
                            sql.Identifier(role), attributes, verifier, limit
                        )
                    )
                    return
                except psycopg.errors.DuplicateObject:
                    pass  # a concurrent run created it first: set the password below
            # SUPERUSER, REPLICATION and BYPASSRLS are left out: naming them at all in ALTER
            # ROLE needs a superuser admin, and the check above already refused a role
            # that has them.
            conn.execute(
                sql.SQL(
                    "ALTER ROLE {} WITH LOGIN NOCREATEDB NOCREATEROLE NOINHERIT"
                    " PASSWORD {} CONNECTION LIMIT {}"
                ).format(sql.Identifier(role), verifier, limit)
            )

    def grant(self, spec: ResourceSpec) -> None:
        database, role = self._names(spec)
        with self._admin("grant") as conn:
            if not _database_exists(conn, database):
                raise ProviderRejected(ENGINE, f"grant failed: database {database} does not exist")
            db, owner = sql.Identifier(database), sql.Identifier(role)
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, owner))
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
            conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(db, owner))
        with self._admin("grant schema public", database=database) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(owner))
            # A clone's objects still belong to the source's role or the admin.
            postgres_clone.transfer_ownership(conn, role)

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        database, role = self._names(spec)
        host, port = self._public_host, self._public_port
        return Credentials(
            engine=ENGINE,
            host=host,
            port=port,
            database=database,
            username=role,
            password=password,
            url=(
                f"postgresql://{quote(role)}:{quote(password, safe='')}"
                f"@{_url_host(host)}:{port}/{database}"
            ),
            notes=f"Database {database}, owned by {role}; schema public is yours.",
        )

    def drop(self, spec: ResourceSpec) -> None:
        database, role = self._names(spec)
        with self._admin("drop") as conn:
            privileged = conn.execute(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = %s", (role,)
            ).fetchone()
            if privileged is not None and privileged[0]:
                raise ProviderRejected(
                    ENGINE, f"role {role} has admin attributes; refusing to drop it"
                )
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    def _names(self, spec: ResourceSpec) -> tuple[str, str]:
        name = names.validate(ENGINE, spec.name)
        return names.sql_database(name), names.sql_user(name)

    @contextmanager
    def _admin(
        self, step: str, *, database: str | None = None, secrets: tuple[str, ...] = ()
    ) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """An autocommit admin connection (CREATE DATABASE cannot run in a transaction).

        Connection parameters go as keywords, never as a DSN string, so no error can echo
        a URL with the admin password in it. Driver errors become provider errors here.
        """
        try:
            with psycopg.connect(
                host=self._host,
                port=self._port,
                user=self._admin_user,
                password=self._admin_password or None,
                dbname=database or self._admin_database,
                connect_timeout=self._connect_timeout,
                autocommit=True,
                application_name="platform-bot-provisioner",
            ) as conn:
                yield conn
        except psycopg.Error as exc:
            raise _map_error(step, exc, self._host, self._port, secrets) from None


def _database_exists(conn: psycopg.Connection[tuple[object, ...]], database: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        is not None
    )


def _scram_verifier(conn: psycopg.Connection[tuple[object, ...]], role: str, password: str) -> str:
    return conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()


def _connection_limit(limits: PlanLimits) -> int:
    return -1 if limits.connection_limit is None else limits.connection_limit


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _map_error(
    step: str, exc: psycopg.Error, host: str, port: int, secrets: tuple[str, ...]
) -> Exception:
    sqlstate = exc.sqlstate
    if sqlstate is None and isinstance(exc, psycopg.OperationalError):
        # Connection failures carry libpq's text, which can include the conninfo: only a
        # known reason is kept. A refused admin login is configuration, not an outage.
        reason, refused = _connect_failure(exc)
        error = ProviderRejected if refused else ProviderUnavailable
        return error(ENGINE, f"{step} failed: cannot connect to {host}:{port} ({reason})")
    if sqlstate is None or sqlstate.startswith(_UNAVAILABLE_CLASSES):
        return ProviderUnavailable(
            ENGINE, f"{step} failed: server unavailable (SQLSTATE {sqlstate})"
        )
    primary = exc.diag.message_primary or type(exc).__name__
    return ProviderRejected(
        ENGINE, scrub(f"{step} failed: {primary} (SQLSTATE {sqlstate})", *secrets)
    )


def _connect_failure(exc: psycopg.Error) -> tuple[str, bool]:
    """(reason, whether the server refused us rather than could not be reached)."""
    text = str(exc).lower()
    for needle, reason, refused in (
        ("connection refused", "connection refused", False),
        ("timeout", "timed out", False),
        ("could not translate host name", "unknown host", False),
        ("password authentication failed", "admin login refused", True),
        ("no password supplied", "admin login refused", True),
        ("no pg_hba.conf entry", "admin login refused", True),
        ("does not exist", "admin role or database missing", True),
    ):
        if needle in text:
            return reason, refused
    return type(exc).__name__, False
