"""`/platform docs`: pages, problems, votes and each dialect's full-text index.

Revision ID: 0009_docs
Revises: 0001_core
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.core.db import UtcDateTime

revision: str = "0009_docs"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Porter stemming over unicode61: English suffixes fold ("databases" finds "database"),
# every script tokenises, and diacritics fold ("Übersicht" finds "Ubersicht").
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE docs_search USING fts5("
    "title, breadcrumb, body, tokenize = 'porter unicode61 remove_diacritics 2')"
)


def upgrade() -> None:
    op.create_table(
        "docs_page",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tree", sa.String(32), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("breadcrumb", sa.String(300), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("settings", sa.String(64), nullable=False),
        sa.Column("indexed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_docs_page")),
        sa.UniqueConstraint("tree", "path", name=op.f("uq_docs_page_tree")),
    )
    op.create_table(
        "docs_problem",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tree", sa.String(32), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("problem", sa.String(300), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_docs_problem")),
    )
    op.create_index(op.f("ix_docs_problem_tree"), "docs_problem", ["tree"])
    op.create_table(
        "docs_vote",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tree", sa.String(32), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("voted_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_docs_vote")),
        sa.UniqueConstraint("tree", "path", "user_id", "day", name=op.f("uq_docs_vote_tree")),
    )
    op.create_index(op.f("ix_docs_vote_day"), "docs_vote", ["day"])
    if op.get_bind().dialect.name == "postgresql":
        # Maintained by DocsIndex (not GENERATED): the text-search configuration is a config
        # value, and a generated column would fix it at migration time. `search` covers the
        # whole page; `head` (title and breadcrumb) finds the pages about very common words.
        op.execute(
            "CREATE TABLE docs_search ("
            "page_id integer PRIMARY KEY, head tsvector NOT NULL, search tsvector NOT NULL)"
        )
        # Without the pending list: pages change rarely, and a search must not scan a long
        # unmerged list after a bulk refresh.
        for column in ("head", "search"):
            op.execute(
                f"CREATE INDEX ix_docs_search_{column} ON docs_search "
                f"USING gin ({column}) WITH (fastupdate = off)"
            )
    else:
        op.execute(SQLITE_FTS)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS docs_search")
    op.drop_table("docs_vote")
    op.drop_table("docs_problem")
    op.drop_table("docs_page")
