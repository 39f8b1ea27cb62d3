"""Docs search over a generated 10,000-page tree, beside the example tree, on both databases.

Measures, each beside a baseline from the same run:
- in-process search latency (`DocsIndex.search`: terms, the every-term query, the any-term
  fill-up, the pages) over a mix of one- to four-word questions, on the 15-page example tree
  (baseline) and on 10,000 generated pages (budget: p99 ≤ 20 ms), SQLite FTS5 and PostgreSQL;
- index build time for each tree, a refresh with nothing changed, and an incremental refresh
  with 1 % of the pages edited.

The generated pages draw words from a Zipf-like vocabulary (a few words on most pages, most
words on few), with headings, lists and code blocks, in 40 sections of an MkDocs nav.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bot.core.audit import AuditLog
from bot.core.db import make_engine, make_session_factory
from bot.runtime.schema import upgrade
from commands.docs.config import DocsSection, DocsTree
from commands.docs.feature import Docs, build_graph
from commands.docs.service.index import RefreshOutcome

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_TREE = REPO / "examples" / "docs"
PAGES = 10_000
SECTIONS = 40
SEARCHES = 2_000
CHANGED = 0.01
VOCABULARY = 5_000
EXAMPLE_QUERIES = [
    "how do I create a new database",
    "database naming rules",
    "I lost my database password",
    "restore a backup of production",
    "preview environment time to live",
    "who is on call",
    "incident severity",
    "rotate a leaked token",
    "where are the logs",
    "database",
]
_SYLLABLE_TEXT = "ka ro mi ne su to la pe di vo ha ze ri mo nu te sa lo bi fe"
_SYLLABLES = _SYLLABLE_TEXT.split()


def _words(rng: random.Random) -> list[str]:
    found: set[str] = set()
    while len(found) < VOCABULARY:
        found.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(found)


def generate_tree(root: Path, pages: int = PAGES, seed: int = 7) -> list[Path]:
    """An MkDocs tree of `pages` pages; returns the page files."""
    rng = random.Random(seed)
    words = _words(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    docs = root / "docs"
    files: list[Path] = []
    nav: list[dict[str, list[dict[str, str]]]] = []
    for section in range(SECTIONS):
        folder = docs / f"section-{section:02d}"
        folder.mkdir(parents=True)
        entries: list[dict[str, str]] = []
        for n in range(pages // SECTIONS):
            title = " ".join(rng.choices(words, weights, k=4)).capitalize()
            path = folder / f"page-{n:04d}.md"
            path.write_text(_page(rng, words, weights, title))
            files.append(path)
            entries.append({title: path.relative_to(docs).as_posix()})
        nav.append({f"Section {section}": entries})
    config = {"site_name": "Generated", "site_url": "https://docs.example/", "nav": nav}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config))
    return files


def _page(rng: random.Random, words: list[str], weights: list[float], title: str) -> str:
    parts = [f"# {title}\n"]
    for _ in range(rng.randint(2, 5)):
        parts.append(f"## {' '.join(rng.choices(words, weights, k=3))}\n")
        parts.append(" ".join(rng.choices(words, weights, k=rng.randint(40, 120))) + ".\n")
        parts.append("".join(f"- {' '.join(rng.choices(words, weights, k=6))}\n" for _ in range(3)))
    parts.append("```bash\n" + " ".join(rng.choices(words, weights, k=12)) + "\n```\n")
    return "\n".join(parts)


def _queries(rng: random.Random, count: int) -> list[str]:
    words = _words(random.Random(7))
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return [" ".join(rng.choices(words, weights, k=rng.randint(1, 4))) for _ in range(count)]


@dataclass(frozen=True)
class Latency:
    p50: float
    p99: float


@dataclass(frozen=True)
class TreeFigures:
    pages: int
    build_s: float
    unchanged_s: float
    incremental_s: float
    changed: int
    search: Latency


@dataclass(frozen=True)
class DatabaseFigures:
    database: str
    example: TreeFigures
    large: TreeFigures


def _docs(url: str, tree: Path) -> Docs:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    section = DocsSection(trees=[DocsTree(name="bench", path=tree)], max_pages=50_000)
    return build_graph(
        section=section,
        base=tree.parent,
        sessions=sessions,
        postgres=engine.dialect.name == "postgresql",
        audit=AuditLog(sessions),
        clock=lambda: datetime.now(UTC),
    )


def _timed(call: Callable[[], RefreshOutcome]) -> tuple[float, RefreshOutcome]:
    started = time.perf_counter()
    outcome = call()
    return time.perf_counter() - started, outcome


def _search(docs: Docs, queries: list[str]) -> Latency:
    for query in queries[:50]:  # warm the caches
        docs.index.search(query)
    samples = []
    for query in queries:
        started = time.perf_counter()
        docs.index.search(query)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return Latency(statistics.median(samples), samples[int(0.99 * len(samples))])


def _measure_tree(url: str, tree: Path, files: list[Path], queries: list[str]) -> TreeFigures:
    docs = _docs(url, tree)
    build_s, outcome = _timed(docs.index.refresh)
    unchanged_s, _ = _timed(docs.index.refresh)
    changed = files[:: max(1, int(1 / CHANGED))]
    for path in changed:
        path.write_text(path.read_text() + "\nEdited for the benchmark.\n")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    incremental_s, after = _timed(docs.index.refresh)
    assert after.updated == len(changed), after
    latency = _search(docs, queries)
    for path in changed:  # the next database measures the same tree
        path.write_text(path.read_text().removesuffix("\nEdited for the benchmark.\n"))
    return TreeFigures(outcome.pages, build_s, unchanged_s, incremental_s, len(changed), latency)


def run(
    databases: list[tuple[str, Callable[[], AbstractContextManager[str]]]],
) -> list[DatabaseFigures]:
    rng = random.Random(3)
    example_queries = [rng.choice(EXAMPLE_QUERIES) for _ in range(SEARCHES)]
    large_queries = _queries(rng, SEARCHES)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        example = Path(tmp) / "example"
        shutil.copytree(EXAMPLE_TREE, example)
        example_files = sorted((example / "docs").rglob("*.md"))
        large = Path(tmp) / "large"
        large_files = generate_tree(large)
        for name, scratch in databases:
            with scratch() as url:
                small = _measure_tree(url, example, example_files, example_queries)
            with scratch() as url:
                big = _measure_tree(url, large, large_files, large_queries)
            results.append(DatabaseFigures(name, small, big))
    return results


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.db"
