"""The docs index on a migrated database of each kind (its full-text tables come from the
migration, not from the models), over a copy of the example tree."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine

from bot.core.audit import AuditLog
from bot.core.db import make_engine, make_session_factory
from bot.runtime.schema import upgrade
from commands.docs.config import DocsSection, DocsTree
from commands.docs.feature import Docs, build_graph
from tests.clock import Clock
from tests.conftest import POSTGRES_ADMIN_URL, REPO_ROOT

EXAMPLE_TREE = REPO_ROOT / "examples" / "docs"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def docs_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'docs.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    name = f"platform_bot_docs_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    engine = make_engine(f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of examples/docs that a test may edit."""
    return Path(shutil.copytree(EXAMPLE_TREE, tmp_path / "tree"))


def make_docs(engine: Engine, tree: Path, **section: object) -> Docs:
    config = DocsSection(
        trees=[DocsTree(name="platform", path=tree, site_url="https://docs.acme.example/")],
        **section,
    )
    sessions = make_session_factory(engine)
    return build_graph(
        section=config,
        base=tree.parent,
        sessions=sessions,
        postgres=engine.dialect.name == "postgresql",
        audit=AuditLog(sessions),
        clock=Clock(),
    )


@pytest.fixture
def docs(docs_engine: Engine, tree: Path) -> Docs:
    built = make_docs(docs_engine, tree)
    built.index.refresh()
    return built
