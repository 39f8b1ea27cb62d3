"""The two full-text engines behind one shape: SQLite FTS5 (bm25) and PostgreSQL tsvector.

Both index a page's title, breadcrumb and body, weighted in that order, under the page's id,
and answer a list of plain terms (never query syntax: `query.py` made them) either all
required (`every=True`) or any of them, best first, with a snippet of the body in which the
matched words sit between HIGHLIGHT_START and HIGHLIGHT_STOP. Callers pass their session:
the index row is written in the same transaction as its page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from commands.docs.service.markdown import HIGHLIGHT_START, HIGHLIGHT_STOP

SNIPPET_TOKENS = 24
RANK_ALL_PAGES = 800
"""PostgreSQL ranks every match of a query matching up to this many pages (see search)."""


@dataclass(frozen=True)
class IndexRow:
    page_id: int
    title: str
    breadcrumb: str
    body: str


@dataclass(frozen=True)
class Match:
    page_id: int
    snippet: str


class FullText(Protocol):
    def write(self, session: Session, rows: Sequence[IndexRow]) -> None: ...

    def delete(self, session: Session, page_ids: Sequence[int]) -> None: ...

    def search(
        self, session: Session, terms: Sequence[str], *, every: bool, limit: int
    ) -> list[Match]: ...


def _quoted(term: str) -> str:
    # A double-quoted string is a phrase in both FTS5 and websearch syntax: operators,
    # column filters and prefixes inside it are plain text.
    return '"' + term.replace('"', " ") + '"'


class _Rows:
    """Writing and deleting index rows by page id: the same in both engines but for SQL."""

    _DELETE: TextClause
    _INSERT: TextClause

    def _params(self, row: IndexRow) -> dict[str, object]:
        return dict(row.__dict__)

    def write(self, session: Session, rows: Sequence[IndexRow]) -> None:
        if not rows:
            return
        self.delete(session, [row.page_id for row in rows])
        session.execute(self._INSERT, [self._params(row) for row in rows])

    def delete(self, session: Session, page_ids: Sequence[int]) -> None:
        if page_ids:
            session.execute(self._DELETE, {"ids": list(page_ids)})


class SqliteFullText(_Rows):
    _DELETE = text("DELETE FROM docs_search WHERE rowid IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    _INSERT = text(
        "INSERT INTO docs_search (rowid, title, breadcrumb, body) "
        "VALUES (:page_id, :title, :breadcrumb, :body)"
    )
    # bm25 weights per column: a word in the title counts ten times one in the body.
    _SEARCH = text(
        "SELECT rowid, snippet(docs_search, 2, :start, :stop, '…', :tokens) FROM docs_search "
        "WHERE docs_search MATCH :query ORDER BY bm25(docs_search, 10.0, 4.0, 1.0) LIMIT :limit"
    )

    def search(
        self, session: Session, terms: Sequence[str], *, every: bool, limit: int
    ) -> list[Match]:
        query = (" " if every else " OR ").join(_quoted(term) for term in terms)
        found = session.execute(
            self._SEARCH,
            {
                "query": query,
                "start": HIGHLIGHT_START,
                "stop": HIGHLIGHT_STOP,
                "tokens": SNIPPET_TOKENS,
                "limit": limit,
            },
        )
        return [Match(int(page_id), snippet or "") for page_id, snippet in found]


class PostgresFullText(_Rows):
    """`language` is a text-search configuration (`english`, `simple`, …), bound as a value."""

    _DELETE = text("DELETE FROM docs_search WHERE page_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    _INSERT = text(
        "INSERT INTO docs_search (page_id, head, search) "
        "SELECT :page_id, head, head || to_tsvector(CAST(:language AS regconfig), :body) FROM ("
        "SELECT setweight(to_tsvector(CAST(:language AS regconfig), :title), 'A') || "
        "setweight(to_tsvector(CAST(:language AS regconfig), :breadcrumb), 'B') AS head) h"
    )
    # How many pages match, counted in the GIN index alone (no page is read), up to a cap.
    _COUNT = text(
        "SELECT count(*) FROM (SELECT 1 FROM docs_search s WHERE s.search @@ "
        "websearch_to_tsquery(CAST(:language AS regconfig), :query) LIMIT :cap) m"
    )
    _QUERY = "WITH q AS (SELECT websearch_to_tsquery(CAST(:language AS regconfig), :query) AS q), "
    # Headlines are built for the few pages kept only: ts_headline re-parses the body.
    _HEADLINES = (
        "SELECT best.page_id, ts_headline(CAST(:language AS regconfig), p.body, q.q, :options) "
        "FROM best JOIN docs_page p ON p.id = best.page_id, q ORDER BY best.rank DESC, best.page_id"
    )
    _SEARCH = text(
        _QUERY + "best AS (SELECT s.page_id, ts_rank(s.search, q.q, 1) AS rank "
        "FROM docs_search s, q WHERE s.search @@ q.q ORDER BY rank DESC, s.page_id LIMIT :limit) "
        + _HEADLINES
    )
    # Words on a great many pages: pages whose title or sections hold them first (ranked on
    # that small vector), then the best of a bounded sample of the rest.
    _SEARCH_COMMON = text(
        _QUERY + "titled AS (SELECT s.page_id, 1 + ts_rank(s.head, q.q, 1) AS rank FROM ("
        "SELECT page_id, head FROM docs_search, q WHERE head @@ q.q LIMIT :cap) s, q), "
        "sample AS (SELECT s.page_id, ts_rank(s.search, q.q, 1) AS rank FROM ("
        "SELECT page_id, search FROM docs_search, q WHERE search @@ q.q LIMIT :cap) s, q), "
        "best AS (SELECT page_id, max(rank) AS rank FROM "
        "(SELECT * FROM titled UNION ALL SELECT * FROM sample) found "
        "GROUP BY page_id ORDER BY rank DESC, page_id LIMIT :limit) " + _HEADLINES
    )

    def __init__(self, language: str) -> None:
        self._language = language
        self._options = (
            f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_STOP}, MaxWords=28, MinWords=12, "
            'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
        )

    def _params(self, row: IndexRow) -> dict[str, object]:
        return {**row.__dict__, "language": self._language}

    def search(
        self, session: Session, terms: Sequence[str], *, every: bool, limit: int
    ) -> list[Match]:
        query = (" " if every else " or ").join(_quoted(term) for term in terms)
        # The tsvectors live in TOAST, which the planner does not cost: it picks a sequential
        # scan that detoasts every page (~20 ms at 10,000 pages) over the GIN index (<1 ms).
        # SET LOCAL ends with this read's transaction.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        params = {"language": self._language, "query": query, "cap": RANK_ALL_PAGES + 1}
        matched = session.scalar(self._COUNT, params) or 0
        # Ranking reads each match's whole vector: a query of words on thousands of pages
        # ranks a bounded set instead (see _SEARCH_COMMON).
        statement = self._SEARCH if matched <= RANK_ALL_PAGES else self._SEARCH_COMMON
        found = session.execute(statement, {**params, "limit": limit, "options": self._options})
        return [Match(int(page_id), snippet or "") for page_id, snippet in found]
