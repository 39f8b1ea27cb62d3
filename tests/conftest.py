"""Shared fixtures: databases on both backends, the platform config, clocks.

Database tests take the `engine` fixture, which runs them on in-memory SQLite and on a
throwaway PostgreSQL database (created per test session on 127.0.0.1:5432, dropped after).
Set PLATFORM_BOT_TEST_POSTGRES_URL to use another server; PostgreSQL tests fail (not skip)
when the server is missing, because CI starts it.

Tests that need a server carry its marker (see tests/servers.py): set on the test, or
added here for every test whose fixtures declare the server with `needs_server`.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, text

from bot.core.db import Base, SessionFactory, make_engine, make_session_factory
from bot.runtime.schema import upgrade
from tests.clock import Clock
from tests.servers import needs_server, servers_needed

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "PLATFORM_BOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SPECS_DIR = Path(os.environ.get("PLATFORM_BOT_SPECS_DIR", REPO_ROOT.parent / "shared" / "specs"))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test with the servers its fixtures need, for `-m` to select on."""
    for item in items:
        for server in sorted(servers_needed(item)):
            item.add_marker(server)


def _import_all_models() -> None:
    import bot.runtime.models  # noqa: F401  (registers every table on Base.metadata)


@contextmanager
def throwaway_postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped (with its sessions) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
@needs_server("postgres")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; dropped at the end."""
    with throwaway_postgres_database("platform_bot_test") as url:
        yield url


@pytest.fixture
@needs_server("postgres")
def empty_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test alone, with no tables: for a bot that migrates it
    (several processes or Services sharing it, as replicas and workers do)."""
    with throwaway_postgres_database("platform_bot_one") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, frozenset[str]]:
    """An SQLite file with every table, made once a session, and the tables it has."""
    _import_all_models()
    path = tmp_path_factory.mktemp("schema") / "bot.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()  # the last connection closing folds the WAL into the file
    return path, frozenset(Base.metadata.tables)


@pytest.fixture(scope="session")
def migrated_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file Alembic has brought to head, made once a session: a bot started on a
    copy of it (`tests.harness.running_bot(schema=...)`) finds nothing left to migrate."""
    path = tmp_path_factory.mktemp("migrated") / "bot.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closing folds the WAL into the file
    return path


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_schema: tuple[Path, frozenset[str]]) -> Iterator[Engine]:
    """A fresh SQLite file with the app's tables: a copy of `sqlite_schema`, which is the
    same as `create_all` on an empty file and far quicker than its ~70 DDL commits."""
    template, tables = sqlite_schema
    database = tmp_path / "bot.db"
    shutil.copyfile(template, database)
    engine = make_engine(f"sqlite:///{database}")
    if frozenset(Base.metadata.tables) != tables:  # a test module added tables since
        Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    _import_all_models()
    engine = make_engine(postgres_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The app database on each supported backend."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on each backend, for tests that run the migrations themselves; on
    PostgreSQL the session's database, emptied before and after."""
    _import_all_models()
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    else:
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            connection.execute(text("DROP FUNCTION IF EXISTS audit_record_append_only CASCADE"))
            connection.execute(text("DROP TABLE IF EXISTS docs_search"))
    yield engine
    if request.param == "postgres":
        Base.metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            connection.execute(text("DROP TABLE IF EXISTS docs_search"))
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """The test clock at `tests.clock.START`; a module overrides it to start elsewhere."""
    return Clock()


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return make_session_factory(engine)
