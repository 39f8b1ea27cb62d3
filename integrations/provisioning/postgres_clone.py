"""PostgreSQL: a database created as a copy of another one, and its objects handed to its role.

`clone_database` copies on the same server. The fast path is `CREATE DATABASE target
TEMPLATE source`, a file-level copy of everything in the database. PostgreSQL refuses it
while any other session is connected to the source (ObjectInUse); then `pg_dump
--format=custom` of the source is streamed into `pg_restore --no-owner --no-acl
--single-transaction` into an empty target. The client tools log in as the admin, with the
password in `PGPASSWORD` of a minimal environment, never on a command line.

Either way the target is created with connections disallowed and opened only after PUBLIC's
privileges are revoked, so no other role can connect to it even for a moment. Copied objects
keep the source role's ownership (fast path) or the admin's (`--no-owner`) until
`transfer_ownership` gives them to the target's role: `PostgresProvisioner.grant` calls it,
because the target's role only exists after `create_user`, which follows the clone.
`REASSIGN OWNED BY source_role` is not used: it would also move the shared objects that role
owns, the source database itself among them. Not handed over: default privileges the
source's role set with ALTER DEFAULT PRIVILEGES (the fast path copies them and they stay
that role's; the restore leaves them out), and the object kinds `transfer_ownership` names.

A re-run converges: a target whose copy through the client tools did not finish carries
the comment `COPYING_MARKER` and is dropped and copied again; a target without it is a
finished copy (the TEMPLATE copy is atomic) and only gets the lock-down again.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Protocol

import psycopg
from psycopg import sql

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning import scrub

ENGINE = "postgres"
COPYING_MARKER = "platform-bot: copy in progress"
CLIENT_TOOLS = ("pg_dump", "pg_restore")
_STDERR_LIMIT = 300

Connection = psycopg.Connection[tuple[object, ...]]


class AdminSessions(Protocol):
    """`PostgresProvisioner._admin`: autocommit admin connections with errors mapped."""

    def __call__(
        self, step: str, *, database: str | None = None, secrets: tuple[str, ...] = ()
    ) -> AbstractContextManager[Connection]: ...


@dataclass(frozen=True, slots=True)
class AdminLogin:
    """How the client tools reach the server as the admin."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    connect_timeout: int
    copy_timeout: int


def clone_database(
    admin: AdminSessions,
    login: AdminLogin,
    *,
    source: str,
    target: str,
    connection_limit: int,
) -> None:
    """Create database `target` as a copy of `source`, locked down like a new database."""
    if source == target:
        raise ProviderRejected(ENGINE, f"clone failed: {source} cannot be copied onto itself")
    with admin("clone database") as conn:
        if not _database_exists(conn, source):
            raise ProviderRejected(ENGINE, f"clone failed: database {source} does not exist")
        state = _target_state(conn, target)
        if state == "partial":
            conn.execute(_sql("DROP DATABASE IF EXISTS {} WITH (FORCE)", target))
        copied = state == "done" or _copy_from_template(conn, source=source, target=target)
        if not copied:
            tools = _client_tools()
            conn.execute(_sql("CREATE DATABASE {} ALLOW_CONNECTIONS false", target))
            conn.execute(_sql("COMMENT ON DATABASE {} IS {}", target, literal=COPYING_MARKER))
        _lock_down(conn, target, connection_limit)
    if not copied:
        _dump_and_restore(tools, login, source=source, target=target)
        with admin("finish copy") as conn:
            conn.execute(_sql("COMMENT ON DATABASE {} IS NULL", target))
    with admin("lock down schema public", database=target) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")


def transfer_ownership(conn: Connection, role: str) -> None:
    """Give `role` every schema, relation, routine and type in the connected database.

    Objects in system schemas and members of extensions keep their owners; so do object
    kinds a clone rarely holds (operators, collations, text search objects, large objects).
    Sequences linked to a column follow their table. Needs a superuser admin (or one that is
    a member of both the old and the new owner).
    """
    owner = sql.Identifier(role)
    with conn.transaction():
        for keyword, name in _foreign_objects(conn, role):
            conn.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(keyword, name, owner))


def _database_exists(conn: Connection, database: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
    return row is not None


def _target_state(conn: Connection, target: str) -> str | None:
    """None: no such database; "partial": a copy that did not finish; "done": a copy."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (target,),
    ).fetchone()
    if row is None:
        return None
    return "partial" if row[0] == COPYING_MARKER else "done"


def _copy_from_template(conn: Connection, *, source: str, target: str) -> bool:
    """True when the TEMPLATE copy was made; False when sessions on the source forbid it."""
    try:
        conn.execute(_sql("CREATE DATABASE {} TEMPLATE {} ALLOW_CONNECTIONS false", target, source))
    except psycopg.errors.ObjectInUse:
        return False
    return True


def _lock_down(conn: Connection, database: str, connection_limit: int) -> None:
    """What `create_resource` leaves: no PUBLIC privileges, the plan's connection limit."""
    conn.execute(_sql("REVOKE ALL ON DATABASE {} FROM PUBLIC", database))
    conn.execute(_sql("ALTER DATABASE {} CONNECTION LIMIT {}", database, literal=connection_limit))
    # Only now: until PUBLIC lost CONNECT, a connection would have let any role in.
    conn.execute(_sql("ALTER DATABASE {} ALLOW_CONNECTIONS true", database))


def _sql(template: str, *identifiers: str, literal: object = None) -> sql.Composed:
    """`template` with `identifiers` quoted, then `literal` (when given) as the last value."""
    values: list[sql.Composable] = [sql.Identifier(name) for name in identifiers]
    if literal is not None:
        values.append(sql.Literal(literal))
    return sql.SQL(template).format(*values)


def _client_tools() -> dict[str, str]:
    found = {tool: shutil.which(tool) for tool in CLIENT_TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        raise ProviderRejected(
            ENGINE,
            "clone failed: the source has open sessions, so it must be copied with "
            f"pg_dump and pg_restore, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed "
            "where the bot runs (install the PostgreSQL client tools)",
        )
    return {tool: path for tool, path in found.items() if path is not None}


def _dump_and_restore(
    tools: dict[str, str], login: AdminLogin, *, source: str, target: str
) -> None:
    """Stream the source's dump into the empty target, in one transaction on the target."""
    server = [f"--host={login.host}", f"--port={login.port}", f"--username={login.user}"]
    # Names are [a-z0-9_] (checked by `names`), so `--dbname` cannot be read as a conninfo.
    dump_cmd = [tools["pg_dump"], "--format=custom", "--no-password", *server, f"--dbname={source}"]
    restore_cmd = [
        tools["pg_restore"], "--no-owner", "--no-acl", "--exit-on-error",
        "--single-transaction", "--no-password", *server, f"--dbname={target}",
    ]  # fmt: skip
    env = {"PGCONNECT_TIMEOUT": str(login.connect_timeout), "PGAPPNAME": "platform-bot-clone"}
    if login.password:
        env["PGPASSWORD"] = login.password
    with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as restore_err:
        dump = subprocess.Popen(
            dump_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=dump_err, env=env
        )
        try:
            restore = subprocess.Popen(
                restore_cmd, stdin=dump.stdout, stdout=subprocess.DEVNULL, stderr=restore_err,
                env=env,
            )  # fmt: skip
        finally:
            # Only pg_restore holds the pipe now: pg_dump gets SIGPIPE if it stops reading.
            if dump.stdout is not None:
                dump.stdout.close()
        try:
            restore_code = restore.wait(timeout=login.copy_timeout)
            dump_code = dump.wait(timeout=login.connect_timeout)
        except subprocess.TimeoutExpired:
            for process in (dump, restore):
                process.kill()
                process.wait()
            raise ProviderUnavailable(
                ENGINE, f"clone failed: the copy took longer than {login.copy_timeout} s"
            ) from None
        # pg_dump's failure is the cause when both fail: pg_restore then saw a cut stream.
        for code, stderr in ((dump_code, dump_err), (restore_code, restore_err)):
            if code != 0:
                raise _tool_error(_first_line(stderr), login.password)


def _first_line(stream: IO[bytes]) -> str:
    stream.seek(0)
    for line in stream.read().decode(errors="replace").splitlines():
        if line.strip():
            return line.strip()[:_STDERR_LIMIT]
    return "no message"


def _tool_error(line: str, password: str) -> Exception:
    message = scrub(f"clone failed: {line}", password)
    if "connection to server" in line or "could not connect" in line:
        return ProviderUnavailable(ENGINE, message)
    return ProviderRejected(ENGINE, message)


# Schemas a database's users own: not pg_catalog, information_schema, pg_toast, pg_temp_N….
_USER_SCHEMA = "n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'"
_NOT_IN_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass"
    " AND d.objid = {oid} AND d.deptype = 'e')"
)
_QUERIES = (
    f"SELECT 'n', NULL, n.nspname FROM pg_namespace n WHERE {_USER_SCHEMA}"
    " AND n.nspowner <> %(owner)s"
    f" AND {_NOT_IN_EXTENSION.format(catalog='pg_namespace', oid='n.oid')}",
    # Sequences linked to a column (serial, identity) follow their table and refuse ALTER.
    "SELECT c.relkind::text, n.nspname, c.relname FROM pg_class c"
    f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER_SCHEMA}"
    " AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND c.relowner <> %(owner)s"
    f" AND {_NOT_IN_EXTENSION.format(catalog='pg_class', oid='c.oid')}"
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
    " AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))",
    "SELECT 'f' || p.prokind::text, NULL, p.oid::regprocedure::text FROM pg_proc p"
    f" JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {_USER_SCHEMA}"
    f" AND p.proowner <> %(owner)s AND {_NOT_IN_EXTENSION.format(catalog='pg_proc', oid='p.oid')}",
    # Array types follow their element type, a table's row type its table.
    "SELECT 't' || t.typtype::text, n.nspname, t.typname FROM pg_type t"
    f" JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {_USER_SCHEMA}"
    " AND t.typtype IN ('c', 'd', 'e', 'r') AND t.typowner <> %(owner)s"
    " AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')"
    " AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)"
    f" AND {_NOT_IN_EXTENSION.format(catalog='pg_type', oid='t.oid')}",
)
_KEYWORDS = {
    "n": "SCHEMA", "r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW",
    "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "fa": "AGGREGATE", "ff": "FUNCTION",
    "fp": "PROCEDURE", "fw": "FUNCTION", "tc": "TYPE", "td": "DOMAIN", "te": "TYPE", "tr": "TYPE",
}  # fmt: skip


def _foreign_objects(conn: Connection, role: str) -> list[tuple[sql.SQL, sql.Composable]]:
    """(ALTER keyword, name) of each object in scope not yet owned by `role`."""
    found = conn.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if found is None:
        raise ProviderRejected(ENGINE, f"grant failed: role {role} does not exist")
    objects: list[tuple[sql.SQL, sql.Composable]] = []
    for query in _QUERIES:
        for code, schema, name in conn.execute(query, {"owner": found[0]}).fetchall():
            keyword = sql.SQL(_KEYWORDS[str(code)])
            if str(code).startswith("f"):
                # regprocedure's text is the server's own quoting of name and argument types.
                objects.append((keyword, sql.SQL(str(name))))
            elif schema is None:
                objects.append((keyword, sql.Identifier(str(name))))
            else:
                objects.append((keyword, sql.Identifier(str(schema), str(name))))
    return objects
