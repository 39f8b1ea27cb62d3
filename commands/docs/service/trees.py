"""Reading one documentation tree as MkDocs would build it: titles, breadcrumbs and URLs.

`read_layout` reads `mkdocs.yml` (when there is one): `site_name`, `site_url`, `docs_dir`
(default `docs/`; without mkdocs.yml the tree's directory itself), `use_directory_urls` and
the `nav` titles and sections. `list_files` walks the docs directory for Markdown files,
bounded, without following a link out of the tree. `build_page` turns one file's bytes into
a page. Whatever cannot be read is returned as a `Problem`, never raised: one bad file must
not stop the rest of the tree from being found.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from commands.docs.config import DocsTree
from commands.docs.models import BREADCRUMB_LIMIT, PATH_LIMIT, TITLE_LIMIT, URL_LIMIT
from commands.docs.service.markdown import TolerantLoader, parse_markdown

SUFFIXES = (".md", ".markdown")
INDEX_NAMES = frozenset({"index.md", "README.md", "index.markdown"})
SEPARATOR = " \u203a "
_NAV_DEPTH = 8
_MKDOCS_BYTES = 1_000_000
LAYOUT_VERSION = "1"
"""Bumped when the way pages are built changes, so every page is built again."""


@dataclass(frozen=True)
class Problem:
    path: str
    problem: str


@dataclass(frozen=True)
class NavEntry:
    title: str | None
    sections: tuple[str, ...]


@dataclass(frozen=True)
class TreeLayout:
    name: str
    docs_dir: Path
    site_url: str | None
    site_name: str
    use_directory_urls: bool
    nav: dict[str, NavEntry]
    settings: str
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class FileStat:
    path: str
    full: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class PageSource:
    path: str
    title: str
    breadcrumb: str
    url: str
    body: str


class TreeMissing(Exception):
    """The tree's directory is not there (its pages are kept until it is back)."""


def read_layout(tree: DocsTree, base: Path, language: str) -> TreeLayout:
    root = (base / tree.path).resolve()
    if not root.is_dir():
        raise TreeMissing(f"{root} is not a directory")
    problems: list[Problem] = []
    config_file = root / "mkdocs.yml"
    raw = b""
    config: dict[str, Any] = {}
    if config_file.is_file():
        raw, config = _mkdocs(config_file, problems)
    # MkDocs' default docs_dir; a bare directory of Markdown is its own docs directory.
    docs_name = config.get("docs_dir", "docs") if raw else "docs"
    if not raw and not (root / "docs").is_dir():
        docs_name = "."
    docs_dir = (root / str(docs_name)).resolve()
    if not docs_dir.is_relative_to(root) or not docs_dir.is_dir():
        problems.append(
            Problem("mkdocs.yml", f"docs_dir {str(docs_name)[:80]!r} is not in the tree")
        )
        docs_dir = root
    site_url = tree.site_url or _text(config.get("site_url"))
    if site_url and not site_url.endswith("/"):
        site_url += "/"
    shaping = [raw, (site_url or "").encode(), (tree.title or "").encode(), language.encode()]
    settings = hashlib.sha256(b"\0".join([*shaping, LAYOUT_VERSION.encode()])).hexdigest()
    return TreeLayout(
        name=tree.name,
        docs_dir=docs_dir,
        site_url=site_url if site_url and site_url.startswith(("http://", "https://")) else None,
        site_name=(tree.title or _text(config.get("site_name")) or tree.name)[:80],
        use_directory_urls=config.get("use_directory_urls", True) is not False,
        nav=_nav(config.get("nav"), (), {}, 0),
        settings=settings,
        problems=problems,
    )


def _mkdocs(config_file: Path, problems: list[Problem]) -> tuple[bytes, dict[str, Any]]:
    raw = config_file.read_bytes()[:_MKDOCS_BYTES]
    try:
        config = yaml.load(raw, Loader=TolerantLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problems.append(Problem("mkdocs.yml", f"not valid YAML{where}; nav titles not used"))
        return raw, {}
    if not isinstance(config, dict):
        problems.append(Problem("mkdocs.yml", "not a mapping; nav titles not used"))
        return raw, {}
    return raw, config


def _text(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _nav(
    items: Any, sections: tuple[str, ...], found: dict[str, NavEntry], depth: int
) -> dict[str, NavEntry]:
    """path → title and sections, from MkDocs' nav (strings, {title: path} and {section: [...]})."""
    if not isinstance(items, list) or depth > _NAV_DEPTH:
        return found
    for item in items:
        if isinstance(item, str):
            found.setdefault(item.strip("/"), NavEntry(None, sections))
        elif isinstance(item, dict):
            for key, value in list(item.items())[:1]:
                title = _text(key)
                if isinstance(value, str) and value.endswith(SUFFIXES):
                    found.setdefault(value.strip("/"), NavEntry(title, sections))
                elif isinstance(value, list) and title:
                    _nav(value, (*sections, title), found, depth + 1)
    return found


def list_files(layout: TreeLayout, max_pages: int) -> tuple[list[FileStat], list[Problem]]:
    """The tree's Markdown files (at most `max_pages`), hidden directories left out."""
    files: list[FileStat] = []
    problems: list[Problem] = []
    root = layout.docs_dir
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.endswith(SUFFIXES) or name.startswith("."):
                continue
            full = Path(folder, name)
            relative = full.relative_to(root).as_posix()
            if len(relative) > PATH_LIMIT:
                problems.append(Problem(relative[:PATH_LIMIT], "path too long; skipped"))
                continue
            if full.is_symlink() and not full.resolve().is_relative_to(root):
                problems.append(Problem(relative, "a link out of the tree; skipped"))
                continue
            if len(files) >= max_pages:
                problems.append(Problem(relative, f"more than {max_pages} pages; the rest skipped"))
                return files, problems
            try:
                stat = full.stat()
            except OSError as error:
                problems.append(Problem(relative, f"cannot read: {error.strerror}"))
                continue
            files.append(FileStat(relative, full, stat.st_size, stat.st_mtime_ns))
    return files, problems


def build_page(layout: TreeLayout, path: str, data: bytes, limit: int) -> PageSource | Problem:
    if b"\x00" in data[:8192]:
        return Problem(path, "binary content; skipped")
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return Problem(path, f"not UTF-8 (byte {error.start}); skipped")
    parsed = parse_markdown(source, limit=limit)
    entry = layout.nav.get(path)
    title = (entry.title if entry else None) or parsed.title or _pretty(Path(path).stem)
    if entry is not None:
        sections = entry.sections
    else:
        sections = tuple(_pretty(part) for part in Path(path).parent.parts)
    crumbs = (layout.site_name, *sections)
    return PageSource(
        path=path,
        title=_bounded(title, TITLE_LIMIT),
        breadcrumb=_bounded(SEPARATOR.join(crumbs), BREADCRUMB_LIMIT),
        url=page_url(layout, path)[:URL_LIMIT],
        body=parsed.text,
    )


def page_url(layout: TreeLayout, path: str) -> str:
    """The page's address as MkDocs builds it (`a/b/` or `a/b.html`); '' without a site."""
    if layout.site_url is None:
        return ""
    folder, _, name = path.rpartition("/")
    stem = name.rsplit(".", 1)[0]
    prefix = f"{folder}/" if folder else ""
    if name in INDEX_NAMES:
        built = prefix if layout.use_directory_urls else f"{prefix}index.html"
    else:
        built = f"{prefix}{stem}/" if layout.use_directory_urls else f"{prefix}{stem}.html"
    return layout.site_url + quote(built)


def _pretty(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").strip()
    return (words[:1].upper() + words[1:]) or name


def _bounded(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
