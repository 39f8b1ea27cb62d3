"""Alembic environment: run with the connection that `bot.runtime.schema` hands over."""

from __future__ import annotations

from alembic import context

import bot.runtime.models

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    # A workspace's own schema in multi-workspace mode (bot.runtime.schema.upgrade).
    version_table_schema=context.config.attributes.get("version_table_schema"),
    target_metadata=bot.runtime.models.Base.metadata,
    # All pending revisions run in one transaction, so a failed upgrade leaves the
    # database at the revision it started from, never half-migrated.
    transaction_per_migration=False,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
