"""Schema migrations (Alembic) and the check `serve` makes before it starts.

Policy: `platform-bot migrate` upgrades; `serve` and `socket` refuse to start on a schema
that is not at head and say which command to run; `shell` migrates its own database.
Replicas that migrate at once serialise on a PostgreSQL advisory lock.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from bot.core.db import is_postgres
from bot.runtime.features import migration_dirs

# Alembic is imported only where a migration runs or is inspected: the check `serve` makes
# reads the revisions itself (see `require_up_to_date`).
if TYPE_CHECKING:
    from alembic.config import Config

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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The core's revisions, then each feature's branch from its own folder.
    locations = [MIGRATIONS / "versions", *migration_dirs()]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    return config


def head_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    heads = frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
    if not heads:
        raise RuntimeError("no migrations are packaged")
    return heads


def schema_status(engine: Engine, *, schema: str | None = None) -> SchemaStatus:
    """Where the database is; `schema` is a workspace's PostgreSQL schema (see below)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table_schema": schema})
        current = frozenset(context.get_current_heads())
    return SchemaStatus(current=current, head=head_revisions())


def require_up_to_date(engine: Engine) -> None:
    """SchemaOutOfDate unless the database is at the packaged heads.

    Read without Alembic: every serving process makes this check, and Alembic (with the
    Mako and Pygments it imports) would stay in each one's memory, ~5 MB, for nothing else.
    `packaged_heads` finds what Alembic's `get_heads` finds (a test holds them together).
    """
    with engine.connect() as connection:
        current: frozenset[str] = frozenset()
        if inspect(connection).has_table("alembic_version"):
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            current = frozenset(versions.scalars())
    status = SchemaStatus(current=current, head=packaged_heads())
    if not status.up_to_date:
        raise SchemaOutOfDate(status)


def packaged_heads() -> frozenset[str]:
    """The revisions no other revision names as its `down_revision`, read from the
    migration files' source (module-level `revision` and `down_revision`)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for folder in [MIGRATIONS / "versions", *migration_dirs()]:
        for path in sorted(Path(folder).glob("*.py")):
            found = _revision_of(ast.parse(path.read_text(encoding="utf-8")))
            if found is not None:
                revisions.add(found[0])
                parents.update(found[1])
    heads = frozenset(revisions - parents)
    if not heads:
        raise RuntimeError("no migrations are packaged")
    return heads


def _revision_of(module: ast.Module) -> tuple[str, tuple[str, ...]] | None:
    values: dict[str, object] = {}
    for node in module.body:
        target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            values[target.id] = None if value is None else ast.literal_eval(value)
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    if isinstance(down, str):
        return revision, (down,)
    return revision, tuple(str(parent) for parent in down) if isinstance(down, tuple) else ()


def upgrade(engine: Engine, *, schema: str | None = None) -> SchemaStatus:
    """Bring the schema to head; returns the status it started from.

    With `schema`, the engine's connections have `search_path` set to that schema first
    (a workspace's own, in multi-workspace mode) and Alembic keeps its version table there
    by name: unqualified, it would find the main schema's through the search path.
    """
    from alembic import command

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
