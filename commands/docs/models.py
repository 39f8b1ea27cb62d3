"""Tables of `/platform docs`: indexed pages, what could not be indexed, and votes.

The full-text index itself is dialect-specific and lives only in the migration (SQLite: the
FTS5 table `docs_search`, whose rowid is the page's id; PostgreSQL: `docs_search` with a
maintained tsvector column and a GIN index). `DocsIndex` writes a page and its search row in
one transaction, so they never disagree.

A page is known by (tree, path); votes are keyed the same way so they survive re-indexing.
A person's vote counts once per page per day (unique key), the latest answer winning.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, UtcDateTime

PATH_LIMIT = 500
TITLE_LIMIT = 200
BREADCRUMB_LIMIT = 300
URL_LIMIT = 1000
PROBLEM_LIMIT = 300


class DocsPage(Base):
    __tablename__ = "docs_page"
    __table_args__ = (UniqueConstraint("tree", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(PATH_LIMIT))
    """The file's path under the tree's docs directory, with forward slashes."""
    title: Mapped[str] = mapped_column(String(TITLE_LIMIT))
    breadcrumb: Mapped[str] = mapped_column(String(BREADCRUMB_LIMIT))
    url: Mapped[str] = mapped_column(String(URL_LIMIT))
    body: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    """sha256 of the file's bytes: a touched but unchanged file is not re-indexed."""
    settings: Mapped[str] = mapped_column(String(64))
    """sha256 of what else shapes the page (mkdocs.yml, site URL, language): when it
    changes, every page of the tree is re-indexed."""
    indexed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DocsProblem(Base):
    __tablename__ = "docs_problem"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree: Mapped[str] = mapped_column(String(32), index=True)
    path: Mapped[str] = mapped_column(String(PATH_LIMIT))
    problem: Mapped[str] = mapped_column(String(PROBLEM_LIMIT))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DocsVote(Base):
    __tablename__ = "docs_vote"
    __table_args__ = (UniqueConstraint("tree", "path", "user_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(PATH_LIMIT))
    user_id: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date, index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    voted_at: Mapped[datetime] = mapped_column(UtcDateTime)
