"""`/platform docs` search over the example docs, on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.core.db import make_session_factory
from bot.core.errors import ConfigProblem
from commands.docs.feature import Docs, _check_language
from commands.docs.service import fts
from tests.commands.docs.conftest import make_docs

QUESTIONS = [
    ("how do I create a new database", "databases/new-db.md"),
    ("database naming rules", "databases/new-db.md"),
    ("I lost my database password", "databases/credentials.md"),
    ("restore a backup of production", "databases/backups.md"),
    ("how long does a preview environment live", "environments/preview.md"),
    ("destroy an environment", "environments/lifecycle.md"),
    ("who is on call for payments", "on-call/who-is-on-call.md"),
    ("incident severity levels", "on-call/incidents.md"),
    ("a token was leaked in a public channel", "runbooks/rotate-secret.md"),
    ("where are the logs", "faq.md"),
]


@pytest.mark.parametrize(("question", "page"), QUESTIONS)
def test_a_realistic_question_finds_the_right_page_first(
    docs: Docs, question: str, page: str
) -> None:
    result = docs.index.search(question)
    assert [hit.path for hit in result.hits][:1] == [page]
    assert len(result.hits) <= 5


def test_an_answer_has_title_breadcrumb_link_and_highlight(docs: Docs) -> None:
    hit = docs.index.search("database naming rules").hits[0]
    assert hit.title == "Request a new database"  # the nav title
    assert hit.breadcrumb == "Acme Platform \u203a Databases"
    assert hit.url == "https://docs.acme.example/databases/new-db/"
    assert "\ue000" in hit.snippet and "\ue001" in hit.snippet


def test_an_edited_page_is_found_by_its_new_text_after_the_next_refresh(
    docs: Docs, tree: Path
) -> None:
    page = tree / "docs" / "faq.md"
    assert [h.path for h in docs.index.search("Grafana Loki").hits] == ["faq.md"]
    text = page.read_text().replace("Grafana Loki", "Kibana Elasticsearch")
    page.write_text(text)
    stat = page.stat()
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    outcome = docs.index.refresh()
    assert (outcome.updated, outcome.added, outcome.removed) == (1, 0, 0)
    assert outcome.unchanged == 14
    assert [h.path for h in docs.index.search("Kibana Elasticsearch").hits] == ["faq.md"]
    assert docs.index.search("Grafana Loki").hits == []


def test_a_touched_but_unchanged_file_is_not_reindexed_and_a_deleted_one_is_removed(
    docs: Docs, tree: Path
) -> None:
    page = tree / "docs" / "index.md"
    os.utime(page, ns=(1, 2))
    (tree / "docs" / "runbooks" / "restart-deployment.md").unlink()
    outcome = docs.index.refresh()
    assert (outcome.updated, outcome.removed, outcome.unchanged, outcome.pages) == (0, 1, 14, 14)
    assert all(h.path != "runbooks/restart-deployment.md" for h in docs.index.search("pods").hits)


def test_non_ascii_words_are_found(docs_engine: Engine, tree: Path) -> None:
    docs = make_docs(docs_engine, tree, language="simple")
    docs.index.refresh()
    assert [h.path for h in docs.index.search("Datensicherung").hits] == ["databases/backups.md"]
    assert [h.path for h in docs.index.search("Wiederherstellung").hits] == ["databases/backups.md"]
    assert [h.path for h in docs.index.search("所有者").hits] == ["services/catalog.md"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        'NEAR("x" y)',
        "title:database",
        "data*",
        "-database",
        "database AND OR NOT",
        "(((",
        "'; DROP TABLE docs_page; --",
        "\x00\ue000\ue001",
        "a" * 5000,
        " ".join(["database"] * 500),
        "^database",
        "🙂",
    ],
)
def test_query_syntax_from_users_never_raises(docs: Docs, query: str) -> None:
    result = docs.index.search(query)
    assert len(result.hits) <= 5
    assert len(result.terms) <= 12


def test_hostile_files_are_skipped_with_a_problem_and_the_rest_indexed(
    docs_engine: Engine, tree: Path
) -> None:
    folder = tree / "docs"
    (folder / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    (folder / "latin1.md").write_bytes("# Café\n".encode("latin-1"))
    (folder / "huge.md").write_text("# Huge\n" + "word " * 300_000)
    (tree / "mkdocs.yml").write_text((tree / "mkdocs.yml").read_text() + "\nnav: [: bad")
    docs = make_docs(docs_engine, tree)
    outcome = docs.index.refresh()
    skipped = {p.path: p.problem for _, p in outcome.problems}
    assert "binary content" in skipped["binary.md"]
    assert "not UTF-8" in skipped["latin1.md"]
    assert "larger than" in skipped["huge.md"]
    assert "not valid YAML" in skipped["mkdocs.yml"]
    assert outcome.pages == 15
    # Without the nav the title comes from the page's first heading.
    assert docs.index.search("database naming rules").hits[0].title == "Request a new database"


@pytest.mark.postgres
@pytest.mark.parametrize("docs_engine", ["postgres"], indirect=True)
def test_on_postgres_words_on_very_many_pages_rank_the_pages_titled_with_them_first(
    docs_engine: Engine, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = make_docs(docs_engine, tree)
    docs.index.refresh()
    monkeypatch.setattr(fts, "RANK_ALL_PAGES", 1)  # "environment" is on more pages than that
    hits = docs.index.search("environment").hits
    assert {h.path for h in hits[:2]} == {"environments/preview.md", "environments/lifecycle.md"}
    assert all("\ue000" in h.snippet for h in hits)


@pytest.mark.postgres
@pytest.mark.parametrize("docs_engine", ["postgres"], indirect=True)
def test_on_postgres_an_unknown_text_search_configuration_stops_the_start(
    docs_engine: Engine,
) -> None:
    sessions = make_session_factory(docs_engine)
    _check_language(sessions, "simple")
    with pytest.raises(ConfigProblem, match=r"docs\.language: PostgreSQL has no text-search"):
        _check_language(sessions, "klingon")
