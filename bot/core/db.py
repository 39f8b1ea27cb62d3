"""The app database: declarative base with a naming convention, engine and sessions.

SQLite (the embedded default) and PostgreSQL (production, through psycopg 3) are both
first-class; code that needs to differ asks `is_postgres(engine)`. A SQLite database file
holds the audit log and sealed credentials, so it is private to the bot's OS user: created
0600 (in a new directory 0700) before SQLite opens it, and narrowed to 0600 if an earlier
release left it readable by others; SQLite gives its -wal and -shm files the same mode.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import JSON, CursorResult, DateTime, Engine, MetaData, Result, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SessionFactory = sessionmaker[Session]

SQLITE_FILE_MODE = 0o600
SQLITE_DIR_MODE = 0o700
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

# JSONB on PostgreSQL, JSON text elsewhere.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` URLs and use psycopg 3 for them."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine with the settings each backend needs for a threaded server."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        if in_memory:
            kwargs.setdefault("poolclass", StaticPool)
        elif parsed.database and not parsed.query.get("uri"):
            # A `file:` URI (uri=true) may name a memory database; it is left to SQLite.
            _make_sqlite_file_private(Path(parsed.database))
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _make_sqlite_file_private(database: Path) -> None:
    database.parent.mkdir(mode=SQLITE_DIR_MODE, parents=True, exist_ok=True)
    # Created here with its mode, so it is never readable by others, not even briefly.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE))
    for path in (database, *(database.with_name(database.name + s) for s in _SQLITE_SIDE_FILES)):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & ~SQLITE_FILE_MODE:
            # Only takes bits away: a stricter mode an operator chose is kept.
            os.chmod(path, mode & SQLITE_FILE_MODE)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# libpq settings for a long-lived connection a process keeps for itself (the leader lock, the
# job listener): notice a dead server or network within seconds instead of TCP's hours.
_DEDICATED_CONNECT_ARGS = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


def dedicated_engine(engine: Engine, *, purpose: str) -> Engine:
    """An engine for one long-lived PostgreSQL session outside the pool, in autocommit.

    NullPool: every connect is a new session and close really closes it, so session state
    (an advisory lock, a LISTEN) never passes to another user of a pooled connection.
    `purpose` names the session in pg_stat_activity (application_name).
    """
    return create_engine(
        engine.url,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={**_DEDICATED_CONNECT_ARGS, "application_name": f"platform-bot {purpose}"},
    )


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched.

    `Session.execute` is typed for queries (`Result`), but DML returns a `CursorResult`.
    Not for INSERT … ON CONFLICT, where psycopg reports -1: use `insert_ignore` and RETURNING.
    """
    return cast(CursorResult[Any], result).rowcount


def insert_ignore(
    session: Session, table: type[Base], *, conflict: Sequence[str]
) -> postgresql.Insert | sqlite.Insert:
    """`INSERT … ON CONFLICT (conflict) DO NOTHING` in the session's own dialect.

    Add `.values(...)` and `.returning(key)`: the returned rows are exactly the ones this
    statement created. Never decide "was it new?" from `rowcount`: psycopg reports -1 for
    INSERT … ON CONFLICT. Losing the race is normal, and no IntegrityError aborts the
    surrounding PostgreSQL transaction.
    """
    return _insert(session, table).on_conflict_do_nothing(index_elements=list(conflict))


def upsert(
    session: Session, table: type[Base], values: Mapping[str, Any], *, conflict: Sequence[str]
) -> postgresql.Insert | sqlite.Insert:
    """`INSERT … ON CONFLICT (conflict) DO UPDATE` every other column of `values`.

    The sibling of `insert_ignore` for rows whose newest write wins (a cache of someone
    else's data); add `.returning(...)` to learn what was stored, never `rowcount`.
    """
    statement = _insert(session, table).values(**values)
    changed = {key: statement.excluded[key] for key in values if key not in conflict}
    return statement.on_conflict_do_update(index_elements=list(conflict), set_=changed)


def _insert(session: Session, table: type[Base]) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
