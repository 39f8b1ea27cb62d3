"""MariaDB / MySQL databases: a database and a user with grants on that database only.

Per resource `orders-db`: database `orders_db` (utf8mb4) and user `orders_db_app`@`%`
(MAX_USER_CONNECTIONS from the plan) with data and schema privileges on `orders_db`.* and
nothing else. Three things this module takes care of:

- The password reaches the server only as its mysql_native_password hash
  (`IDENTIFIED BY PASSWORD '*…'`), so the plaintext is never in a statement a log could keep.
- In GRANT, `_` and `%` in a database name are wildcards: `orders_db`.* would also match
  `ordersXdb`. The name is granted with `_` escaped (`orders\\_db`).
- A server with anonymous users (`''@'localhost'`, as `mariadb-install-db` creates them)
  matches them before `'orders_db_app'@'%'` for local logins, which then fail. When such
  users exist, the user is also created `@'localhost'` with the same password and grants.

User, host and password are string literals passed as PyMySQL parameters; database names
are backtick-quoted after `names.validate` (they contain only `[a-z0-9_]`).

Cloning (`clone_resource`) copies a database's base tables on the same server; `run_sql`
runs a template's masking script in a database as the admin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pymysql
import pymysql.cursors
from pymysql.constants import CLIENT

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning import names, scrub
from integrations.provisioning_protocols import Credentials, ResourceSpec

ENGINE = "mariadb"

_PRIVILEGES = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES, "
    "CREATE TEMPORARY TABLES, LOCK TABLES, CREATE VIEW, SHOW VIEW, TRIGGER"
)
# Client error codes (CR_*) and server codes that mean the server cannot serve us now.
_UNAVAILABLE_CODES = frozenset({2002, 2003, 2005, 2006, 2013, 2055, 1040, 1053, 1203})


class MariaDBProvisioner:
    """Provisions on one MariaDB server as an admin user with CREATE USER and GRANT OPTION.

    `user_host` is the host part of created users (`%`: from anywhere the server listens).
    """

    engine = ENGINE

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 3306,
        admin_user: str = "root",
        admin_password: str = "",
        user_host: str = "%",
        public_host: str | None = None,
        public_port: int | None = None,
        connect_timeout_seconds: int = 5,
    ) -> None:
        self._host = host
        self._port = port
        self._admin_user = admin_user
        self._admin_password = admin_password
        self._user_host = user_host
        self._public_host = public_host or host
        self._public_port = public_port or port
        self._timeout = max(1, connect_timeout_seconds)

    def check(self) -> None:
        with self._admin("check") as cursor:
            cursor.execute("SELECT 1")

    def exists(self, spec: ResourceSpec) -> bool:
        database, user = self._names(spec)
        with self._admin("exists") as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s)"
                " OR EXISTS (SELECT 1 FROM mysql.user WHERE User = %s)",
                (database, user),
            )
            row = cursor.fetchone()
        return bool(row and row[0])

    def create_resource(self, spec: ResourceSpec) -> None:
        database, _ = self._names(spec)
        with self._admin("create database") as cursor:
            cursor.execute(
                f"CREATE DATABASE IF NOT EXISTS {_quote(database)}"
                " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        """Create `target`'s database as `create_resource` does, holding a copy of every base
        table of `source`'s: `CREATE TABLE … LIKE` (columns, indexes, table options) and its
        rows (`INSERT … SELECT`, generated columns recomputed).

        Not copied: foreign keys (`LIKE` leaves them out), views, stored routines,
        triggers and events. Each table is copied in its own statement, so the copy is not
        one snapshot across tables. A re-run drops whatever an earlier run copied and starts
        over; the target's grants are on the name and survive that.
        """
        source_db, _ = self._names(source)
        target_db, _ = self._names(target)
        if source_db == target_db:
            raise ProviderRejected(
                ENGINE, f"clone failed: {source_db} cannot be copied onto itself"
            )
        with self._admin("clone database") as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (source_db,)
            )
            if cursor.fetchone() is None:
                raise ProviderRejected(ENGINE, f"clone failed: database {source_db} does not exist")
            cursor.execute(f"DROP DATABASE IF EXISTS {_quote(target_db)}")
        self.create_resource(target)
        with self._admin("copy tables") as cursor:
            cursor.execute(
                "SELECT TABLE_NAME FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                (source_db,),
            )
            for (table,) in cursor.fetchall():
                _copy_table(cursor, str(table), source=source_db, target=target_db)

    def run_sql(self, spec: ResourceSpec, sql_text: str) -> None:
        """Run `sql_text` (any number of statements) in `spec`'s database as the admin, in
        one transaction: a failing statement rolls back the ones before it, except that DDL
        (ALTER, CREATE, DROP, …) commits implicitly in MariaDB."""
        database, _ = self._names(spec)
        with self._admin("run SQL", database=database, multi_statements=True) as cursor:
            cursor.connection.begin()
            # No arguments: PyMySQL sends the text as it is, `%` included. The server stops
            # at the first failing statement; its error surfaces from `nextset`, and the
            # connection then closes without COMMIT, which rolls the transaction back.
            cursor.execute(sql_text)
            while cursor.nextset():
                pass
            cursor.connection.commit()

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        _, user = self._names(spec)
        hashed = _native_password_hash(password)
        limit = spec.limits.connection_limit or 0  # 0: no per-user limit
        with self._admin("create user", secrets=(password, hashed)) as cursor:
            for host in self._hosts(cursor):
                cursor.execute(
                    "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY PASSWORD %s"
                    " WITH MAX_USER_CONNECTIONS %s",
                    (user, host, hashed, limit),
                )
                # IF NOT EXISTS leaves an existing user alone; this makes a re-run converge.
                cursor.execute(
                    "ALTER USER %s@%s IDENTIFIED BY PASSWORD %s WITH MAX_USER_CONNECTIONS %s",
                    (user, host, hashed, limit),
                )

    def grant(self, spec: ResourceSpec) -> None:
        database, user = self._names(spec)
        with self._admin("grant") as cursor:
            for host in self._hosts(cursor):
                cursor.execute(
                    f"GRANT {_PRIVILEGES} ON {_quote(_grant_pattern(database))}.* TO %s@%s",
                    (user, host),
                )

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        database, user = self._names(spec)
        host, port = self._public_host, self._public_port
        url_host = f"[{host}]" if ":" in host else host
        return Credentials(
            engine=ENGINE,
            host=host,
            port=port,
            database=database,
            username=user,
            password=password,
            url=f"mysql://{quote(user)}:{quote(password, safe='')}@{url_host}:{port}/{database}",
            notes=f"Database {database}; {user} has data and schema privileges on it only.",
        )

    def drop(self, spec: ResourceSpec) -> None:
        database, user = self._names(spec)
        with self._admin("drop") as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {_quote(database)}")
            for host in sorted({self._user_host, "localhost"}):
                cursor.execute("DROP USER IF EXISTS %s@%s", (user, host))

    def _names(self, spec: ResourceSpec) -> tuple[str, str]:
        name = names.validate(ENGINE, spec.name)
        return names.sql_database(name), names.sql_user(name)

    def _hosts(self, cursor: pymysql.cursors.Cursor) -> list[str]:
        hosts = [self._user_host]
        if self._user_host != "localhost":
            cursor.execute("SELECT COUNT(*) FROM mysql.user WHERE User = ''")
            row = cursor.fetchone()
            if row and row[0]:
                hosts.append("localhost")
        return hosts

    @contextmanager
    def _admin(
        self,
        step: str,
        *,
        secrets: tuple[str, ...] = (),
        database: str | None = None,
        multi_statements: bool = False,
    ) -> Iterator[pymysql.cursors.Cursor]:
        try:
            conn = pymysql.connect(
                host=self._host,
                port=self._port,
                user=self._admin_user,
                password=self._admin_password,
                database=database,
                client_flag=CLIENT.MULTI_STATEMENTS if multi_statements else 0,
                connect_timeout=self._timeout,
                read_timeout=30,
                write_timeout=30,
                autocommit=True,
                charset="utf8mb4",
            )
        except pymysql.MySQLError as exc:
            raise self._map_error(step, exc, secrets) from None
        try:
            with conn.cursor() as cursor:
                yield cursor
        except pymysql.MySQLError as exc:
            raise self._map_error(step, exc, secrets) from None
        finally:
            conn.close()

    def _map_error(self, step: str, exc: pymysql.MySQLError, secrets: tuple[str, ...]) -> Exception:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        if code in _UNAVAILABLE_CODES or isinstance(exc, pymysql.err.InterfaceError):
            # Client errors embed the address and the OS error; say where we tried, not more.
            return ProviderUnavailable(
                ENGINE,
                f"{step} failed: cannot reach {self._host}:{self._port}"
                f" (error {code or 'interface'})",
            )
        if code == 1045:
            return ProviderRejected(ENGINE, f"{step} failed: admin login refused (error 1045)")
        message = str(exc.args[1]) if len(exc.args) > 1 else type(exc).__name__
        return ProviderRejected(
            ENGINE,
            scrub(f"{step} failed: {message} (error {code})", self._admin_password, *secrets),
        )


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _copy_table(cursor: pymysql.cursors.Cursor, table: str, *, source: str, target: str) -> None:
    cursor.execute(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s"
        " AND TABLE_NAME = %s AND IS_GENERATED = 'NEVER' ORDER BY ORDINAL_POSITION",
        (source, table),
    )
    # Generated columns cannot be written; the target computes them again.
    columns = ", ".join(_quote(str(column)) for (column,) in cursor.fetchall())
    origin, copy = f"{_quote(source)}.{_quote(table)}", f"{_quote(target)}.{_quote(table)}"
    cursor.execute(f"CREATE TABLE {copy} LIKE {origin}")
    cursor.execute(f"INSERT INTO {copy} ({columns}) SELECT {columns} FROM {origin}")


def _grant_pattern(database: str) -> str:
    r"""The database name with GRANT's wildcards escaped: `orders_db` → `orders\_db`."""
    return database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def _native_password_hash(password: str) -> str:
    """mysql_native_password's stored form: `*` + upper-case hex of SHA1(SHA1(password))."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()
