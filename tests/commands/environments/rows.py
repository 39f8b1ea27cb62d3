"""One environment being created, with the one row a module or orchestrator driver keeps,
in a fresh SQLite database: for the drivers' own tests, which need no bot around them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine

from bot.core.db import Base, SessionFactory, make_session_factory, utcnow
from commands.environments.drivers.base import EnvShape
from commands.environments.models import Environment, EnvResource, ResourceState


@contextmanager
def creating(
    directory: Path, env: EnvShape, *, driver: str, key: str, engine: str
) -> Iterator[SessionFactory]:
    """Sessions on a database holding `env` (status creating) and its `key` row (planned)."""
    database = create_engine(f"sqlite:///{directory / 'db.sqlite'}")
    Base.metadata.create_all(database)
    sessions = make_session_factory(database)
    with sessions.begin() as session:
        session.add(
            Environment(
                id=env.id, name=env.name, live_name=env.name, request_key="k",
                template=env.template_key, driver=driver, tier=env.tier, team=env.team,
                requested_by="U1", status="creating", currency="USD", inputs="{}",
                outputs="{}", approvals_needed=0, leftovers=False, created_at=utcnow(),
            )
        )  # fmt: skip
        session.flush()
        session.add(
            EnvResource(
                environment_id=env.id, key=key, engine=engine, plan=key, name=env.name,
                state=ResourceState.PLANNED,
            )
        )  # fmt: skip
    try:
        yield sessions
    finally:
        database.dispose()
