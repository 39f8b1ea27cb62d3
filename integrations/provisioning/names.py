"""Resource names → each engine's identifiers, validated again before any I/O.

The feature validates names for its modal; provisioners check once more here because a
name that reaches a DDL statement, an ACL rule or a command line must never depend on a
caller having done it. Everything built from a valid name is inside the engines' limits
(PostgreSQL identifiers 63 bytes, MariaDB database 64 / user 80 characters, NATS stream
names without `.`), so nothing is silently truncated by a server.
"""

from __future__ import annotations

import re

from integrations.errors import ProviderRejected

NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,29}[a-z0-9]")
MAX_NAME_LENGTH = 31

# Names whose identifiers are a server's own objects: provisioning them would rewrite, and
# dropping them would destroy, something the platform does not own (PostgreSQL's `postgres`
# and template databases, MariaDB's system schemas, Redis's `default` user, RabbitMQ's
# `guest`). `information-schema` maps to `information_schema`, hence the hyphenated forms.
RESERVED_NAMES = frozenset(
    {
        "postgres", "template0", "template1", "mysql", "sys", "information-schema",
        "performance-schema", "mariadb", "default", "guest", "root", "admin", "rabbitmq",
    }
)  # fmt: skip

_SQL_MAX_BYTES = 63


def validate(engine: str, name: str) -> str:
    """Return `name` when it is a valid resource name; raise `ProviderRejected` otherwise.

    The message quotes at most the first 40 characters of a bad name, with `repr` so that
    control characters cannot forge log lines.
    """
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        shown = repr(name[:40]) if isinstance(name, str) else type(name).__name__
        raise ProviderRejected(
            engine,
            f"invalid resource name {shown}: use 3-{MAX_NAME_LENGTH} characters a-z, 0-9 and -, "
            "starting with a letter and not ending with -",
        )
    if name in RESERVED_NAMES:
        raise ProviderRejected(engine, f"resource name {name!r} is reserved by the server")
    return name


def sql_database(name: str) -> str:
    """PostgreSQL / MariaDB database: `orders-db` → `orders_db` (no quoting needed in SQL)."""
    database = name.replace("-", "_")
    assert len(database.encode()) <= _SQL_MAX_BYTES
    return database


def sql_user(name: str) -> str:
    """PostgreSQL role / MariaDB user: `orders-db` → `orders_db_app`."""
    user = f"{sql_database(name)}_app"
    assert len(user.encode()) <= _SQL_MAX_BYTES
    return user


def key_prefix(name: str) -> str:
    """Redis key and channel prefix: `orders-db` → `orders-db:`."""
    return f"{name}:"


def stream_name(name: str) -> str:
    """NATS JetStream stream: `orders-db` → `ORDERS_DB`."""
    return name.upper().replace("-", "_")


def subject_prefix(name: str) -> str:
    """NATS subjects the stream captures: `orders-db` → `orders-db.` (subjects `orders-db.>`)."""
    return f"{name}."


def sqlite_file(name: str) -> str:
    """SQLite file name inside the data directory: `orders-db` → `orders-db.sqlite3`."""
    return f"{name}.sqlite3"
