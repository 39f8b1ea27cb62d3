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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pymysql
import pymysql.cursors

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.protocols import Credentials, ResourceSpec
from integrations.provisioning import names, scrub

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
        self, step: str, *, secrets: tuple[str, ...] = ()
    ) -> Iterator[pymysql.cursors.Cursor]:
        try:
            conn = pymysql.connect(
                host=self._host,
                port=self._port,
                user=self._admin_user,
                password=self._admin_password,
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


def _grant_pattern(database: str) -> str:
    r"""The database name with GRANT's wildcards escaped: `orders_db` → `orders\_db`."""
    return database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def _native_password_hash(password: str) -> str:
    """mysql_native_password's stored form: `*` + upper-case hex of SHA1(SHA1(password))."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()
