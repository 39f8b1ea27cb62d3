"""The docs index: incremental refresh of every configured tree, and search over it.

Refresh reads each tree's layout, lists its Markdown files and compares each with what the
index holds: the same size, mtime and tree settings → untouched, without reading the file;
otherwise the file is read and hashed, and only a changed hash re-parses and re-indexes it.
Files gone from the tree (and trees gone from the config) lose their pages. A tree whose
directory is missing keeps its pages (an unmounted volume must not empty the index) and
reports the problem. Pages are written in batches, each page with its full-text row in one
transaction. Refreshes are serialised in this process; two replicas refreshing at once lose
nothing (the unique (tree, path) key refuses the duplicate and the next refresh converges).

Search turns the query into plain terms (`query.terms_of`), asks for pages holding every
term and, when fewer than `limit` do, fills up with pages holding any of them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory
from commands.docs.config import DocsSection, DocsTree
from commands.docs.models import PROBLEM_LIMIT, DocsPage, DocsProblem
from commands.docs.service.fts import FullText, IndexRow
from commands.docs.service.query import terms_of
from commands.docs.service.techdocs import PREFIX as TECHDOCS_PREFIX
from commands.docs.service.techdocs import catalog_trees
from commands.docs.service.trees import (
    FileStat,
    PageSource,
    Problem,
    TreeLayout,
    TreeMissing,
    build_page,
    list_files,
    read_layout,
)
from integrations.errors import IntegrationError
from integrations.protocols import CatalogProvider

logger = logging.getLogger(__name__)
BATCH = 250
MAX_PROBLEMS = 100
"""Problems kept per tree: enough to act on, bounded when a whole tree is broken."""
RESULTS = 5
CATALOG = "(catalog)"
"""Where problems of the catalog itself are recorded (no tree has this name)."""


@dataclass
class RefreshOutcome:
    pages: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[tuple[str, Problem]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Hit:
    tree: str
    path: str
    title: str
    breadcrumb: str
    url: str
    snippet: str


@dataclass(frozen=True)
class SearchResult:
    query: str
    terms: list[str]
    hits: list[Hit]


@dataclass(frozen=True)
class _Stored:
    id: int
    size: int
    mtime_ns: int
    digest: str
    settings: str


class DocsIndex:
    def __init__(
        self,
        *,
        section: DocsSection,
        base: Path,
        sessions: SessionFactory,
        fulltext: FullText,
        clock: Callable[[], datetime],
        catalog: CatalogProvider | None = None,
    ) -> None:
        self._section = section
        self._catalog = catalog
        self._base = base
        self._sessions = sessions
        self._fulltext = fulltext
        self._clock = clock
        self._lock = threading.Lock()

    # --- refresh ------------------------------------------------------------------------------

    def refresh(self) -> RefreshOutcome:
        with self._lock:
            started = time.perf_counter()
            outcome = RefreshOutcome()
            trees, keep = self._trees(outcome)
            for tree in trees:
                problems = self._refresh_tree(tree.name, tree, outcome)
                self._record_problems(tree.name, problems)
                outcome.problems.extend((tree.name, p) for p in problems)
            self._drop_unconfigured([tree.name for tree in trees], keep, outcome)
            with self._sessions() as session:
                outcome.pages = session.scalar(select(func.count(DocsPage.id))) or 0
            outcome.seconds = time.perf_counter() - started
            return outcome

    def refresh_quietly(self) -> None:
        """The scheduled refresh: logs its outcome; an unexpected error is logged, not raised."""
        try:
            outcome = self.refresh()
        except Exception:
            logger.exception("docs refresh failed")
            return
        logger.info(
            "docs refresh: %d pages (%d added, %d updated, %d removed), %d problems in %.2fs",
            outcome.pages,
            outcome.added,
            outcome.updated,
            outcome.removed,
            len(outcome.problems),
            outcome.seconds,
        )

    def _trees(self, outcome: RefreshOutcome) -> tuple[list[DocsTree], bool]:
        """The configured trees and the catalog's TechDocs trees; whether to keep the
        catalog's trees found before (when the catalog cannot be read now)."""
        trees = list(self._section.trees)
        if self._catalog is None or self._section.catalog is None:
            return trees, False
        try:
            found, problems = catalog_trees(self._catalog, self._section.catalog, self._base)
        except IntegrationError as error:
            found, problems = [], [Problem(".", f"catalog unavailable: {error}")]
        self._record_problems(CATALOG, problems)
        outcome.problems.extend((CATALOG, p) for p in problems)
        return trees + found, not found and bool(problems)

    def _refresh_tree(self, name: str, tree: DocsTree, outcome: RefreshOutcome) -> list[Problem]:
        try:
            layout = read_layout(tree, self._base, self._section.language)
        except TreeMissing as missing:
            return [Problem(".", f"{missing}; its pages are kept")]
        files, problems = list_files(layout, self._section.max_pages)
        problems = layout.problems + problems
        stored = self._stored(name)
        changed: list[tuple[FileStat, _Stored | None]] = []
        for stat in files:
            old = stored.pop(stat.path, None)
            if old is not None and (old.size, old.mtime_ns, old.settings) == (
                stat.size,
                stat.mtime_ns,
                layout.settings,
            ):
                outcome.unchanged += 1
            else:
                changed.append((stat, old))
        for start in range(0, len(changed), BATCH):
            self._write_batch(layout, changed[start : start + BATCH], problems, outcome)
        self._delete([old.id for old in stored.values()])
        outcome.removed += len(stored)
        return problems[:MAX_PROBLEMS]

    def _stored(self, tree: str) -> dict[str, _Stored]:
        columns = (DocsPage.path, DocsPage.id, DocsPage.size, DocsPage.mtime_ns)
        with self._sessions() as session:
            rows = session.execute(
                select(*columns, DocsPage.digest, DocsPage.settings).where(DocsPage.tree == tree)
            )
            return {row[0]: _Stored(*row[1:]) for row in rows}

    def _write_batch(
        self,
        layout: TreeLayout,
        batch: Sequence[tuple[FileStat, _Stored | None]],
        problems: list[Problem],
        outcome: RefreshOutcome,
    ) -> None:
        now = self._clock()
        touched: list[tuple[int, FileStat]] = []
        built: list[tuple[FileStat, str, PageSource, _Stored | None]] = []
        dropped: list[int] = []
        for stat, old in batch:
            read = self._read(layout, stat)
            if isinstance(read, Problem):
                problems.append(read)
                dropped += [old.id] if old is not None else []
                continue
            digest, page = read
            if old is not None and old.digest == digest and old.settings == layout.settings:
                touched.append((old.id, stat))
            elif isinstance(page, Problem):
                problems.append(page)
                dropped += [old.id] if old is not None else []
            else:
                built.append((stat, digest, page, old))
        try:
            self._store(layout, now, touched, built, dropped)
        except IntegrityError:
            logger.warning(
                "docs refresh of %s raced another; the next refresh converges", layout.name
            )
            return
        outcome.unchanged += len(touched)
        outcome.added += sum(1 for *_, old in built if old is None)
        outcome.updated += sum(1 for *_, old in built if old is not None)
        outcome.removed += len(dropped)

    def _read(
        self, layout: TreeLayout, stat: FileStat
    ) -> Problem | tuple[str, PageSource | Problem]:
        if stat.size > self._section.max_file_bytes:
            return Problem(
                stat.path, f"larger than {self._section.max_file_bytes:,} bytes; skipped"
            )
        try:
            data = stat.full.read_bytes()
        except OSError as error:
            return Problem(stat.path, f"cannot read: {error.strerror}")
        digest = hashlib.sha256(data).hexdigest()
        return digest, build_page(layout, stat.path, data, self._section.max_page_chars)

    def _store(
        self,
        layout: TreeLayout,
        now: datetime,
        touched: Sequence[tuple[int, FileStat]],
        built: Sequence[tuple[FileStat, str, PageSource, _Stored | None]],
        dropped: Sequence[int],
    ) -> None:
        with self._sessions.begin() as session:
            for page_id, stat in touched:
                session.execute(
                    update(DocsPage)
                    .where(DocsPage.id == page_id)
                    .values(size=stat.size, mtime_ns=stat.mtime_ns)
                )
            rows: list[IndexRow] = []
            for stat, digest, page, old in built:
                values = {
                    "title": page.title,
                    "breadcrumb": page.breadcrumb,
                    "url": page.url,
                    "body": page.body,
                    "size": stat.size,
                    "mtime_ns": stat.mtime_ns,
                    "digest": digest,
                    "settings": layout.settings,
                    "indexed_at": now,
                }
                if old is None:
                    row = DocsPage(tree=layout.name, path=page.path, **values)
                    session.add(row)
                    session.flush()
                    page_id = row.id
                else:
                    page_id = old.id
                    session.execute(update(DocsPage).where(DocsPage.id == page_id).values(**values))
                rows.append(IndexRow(page_id, page.title, page.breadcrumb, page.body))
            self._fulltext.write(session, rows)
            self._delete_in(session, dropped)

    def _delete(self, page_ids: Sequence[int]) -> None:
        for start in range(0, len(page_ids), BATCH):
            with self._sessions.begin() as session:
                self._delete_in(session, page_ids[start : start + BATCH])

    def _delete_in(self, session: Session, page_ids: Sequence[int]) -> None:
        if page_ids:
            self._fulltext.delete(session, page_ids)
            session.execute(delete(DocsPage).where(DocsPage.id.in_(page_ids)))

    def _drop_unconfigured(self, names: list[str], keep: bool, outcome: RefreshOutcome) -> None:
        query = select(DocsPage.id).where(DocsPage.tree.not_in(names))
        if keep:
            query = query.where(DocsPage.tree.not_like(f"{TECHDOCS_PREFIX}%"))
        with self._sessions() as session:
            gone = list(session.scalars(query))
        self._delete(gone)
        outcome.removed += len(gone)
        with self._sessions.begin() as session:
            session.execute(delete(DocsProblem).where(DocsProblem.tree.not_in([*names, CATALOG])))

    def _record_problems(self, tree: str, problems: Sequence[Problem]) -> None:
        now = self._clock()
        with self._sessions.begin() as session:
            session.execute(delete(DocsProblem).where(DocsProblem.tree == tree))
            for found in problems:
                path, text = found.path[:500], found.problem[:PROBLEM_LIMIT]
                session.add(DocsProblem(tree=tree, path=path, problem=text, recorded_at=now))
        for found in problems:
            logger.warning("docs tree %s: %s: %s", tree, found.path, found.problem)

    # --- search -------------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = RESULTS) -> SearchResult:
        terms = terms_of(query)
        if not terms:
            return SearchResult(query, terms, [])
        with self._sessions() as session:
            matches = self._fulltext.search(session, terms, every=True, limit=limit)
            if len(matches) < limit and len(terms) > 1:
                seen = {m.page_id for m in matches}
                broader = self._fulltext.search(session, terms, every=False, limit=limit * 2)
                matches += [m for m in broader if m.page_id not in seen][: limit - len(matches)]
            ids = [m.page_id for m in matches]
            pages = (
                {
                    page.id: page
                    for page in session.scalars(select(DocsPage).where(DocsPage.id.in_(ids)))
                }
                if ids
                else {}
            )
        hits = [
            Hit(p.tree, p.path, p.title, p.breadcrumb, p.url, m.snippet)
            for m in matches
            if (p := pages.get(m.page_id)) is not None
        ]
        return SearchResult(query, terms, hits)

    def problems(self, limit: int = 10) -> tuple[int, list[DocsProblem]]:
        with self._sessions() as session:
            rows = list(session.scalars(select(DocsProblem).order_by(DocsProblem.id)))
        return len(rows), rows[:limit]

    def page_count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count(DocsPage.id))) or 0
