"""Schema migrations (Alembic) and the check `serve` makes before it starts.

Policy: `platform-bot migrate` upgrades; `serve` and `socket` refuse to start on a schema
that is not at head and say which command to run; `shell` migrates its own database.
Replicas that migrate at once serialise on a PostgreSQL advisory lock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from bot.core.db import is_postgres
from bot.runtime.features import migration_dirs

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# An arbitrary constant shared by every replica: "platform-bot migrate" in ASCII.
_MIGRATION_LOCK_KEY = 0x706C6174_6D696772


@dataclass(frozen=True)
class SchemaStatus:
    """Revisions as sets: each feature's migrations form a branch from the core revision."""

    current: frozenset[str]
    head: frozenset[str]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @staticmethod
    def describe(revisions: frozenset[str]) -> str:
        return ", ".join(sorted(revisions)) or "empty"


class SchemaOutOfDate(Exception):
    def __init__(self, status: SchemaStatus) -> None:
        where = (
            f"revision {status.describe(status.current)}" if status.current else "an empty database"
        )
        super().__init__(
            f"the database schema is at {where}, this release needs revision "
            f"{status.describe(status.head)}: run `platform-bot migrate` first"
        )


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The core's revisions, then each feature's branch from its own folder.
    locations = [MIGRATIONS / "versions", *migration_dirs()]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    return config


def head_revisions() -> frozenset[str]:
    heads = frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
    if not heads:
        raise RuntimeError("no migrations are packaged")
    return heads


def schema_status(engine: Engine, *, schema: str | None = None) -> SchemaStatus:
    """Where the database is; `schema` is a workspace's PostgreSQL schema (see below)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table_schema": schema})
        current = frozenset(context.get_current_heads())
    return SchemaStatus(current=current, head=head_revisions())


def require_up_to_date(engine: Engine) -> None:
    status = schema_status(engine)
    if not status.up_to_date:
        raise SchemaOutOfDate(status)


def upgrade(engine: Engine, *, schema: str | None = None) -> SchemaStatus:
    """Bring the schema to head; returns the status it started from.

    With `schema`, the engine's connections have `search_path` set to that schema first
    (a workspace's own, in multi-workspace mode) and Alembic keeps its version table there
    by name: unqualified, it would find the main schema's through the search path.
    """
    before = schema_status(engine, schema=schema)
    if before.up_to_date:
        return before
    config = alembic_config()
    config.attributes["version_table_schema"] = schema
    with engine.connect() as connection:
        if is_postgres(engine):
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
            connection.commit()
        finally:
            if is_postgres(engine):
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
                connection.commit()
    return before
