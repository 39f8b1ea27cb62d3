"""Markdown to searchable text: headings and prose kept, code kept but bounded, markup gone.

markdown-it-py parses (CommonMark, linear time on any input); HTML blocks are dropped, inline
HTML is dropped, links keep their text and images their alt text. YAML front matter (MkDocs
reads `title:` from it) is split off first. The two characters search uses to mark
highlights are removed from the text, so a page cannot forge a highlight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

HIGHLIGHT_START = "\ue000"
HIGHLIGHT_STOP = "\ue001"
CODE_BLOCK_CHARS = 1_500
_MARKERS = str.maketrans({HIGHLIGHT_START: " ", HIGHLIGHT_STOP: " ", "\x00": " "})
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_PARSER = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class ParsedPage:
    title: str | None
    """The front matter's `title`, else the first heading's text."""
    text: str


def parse_markdown(source: str, *, limit: int) -> ParsedPage:
    """The page's title and its text, at most `limit` characters."""
    source = source.translate(_MARKERS)
    front_title, source = _front_matter(source)
    parts: list[str] = []
    heading: str | None = None
    used = 0
    tokens = _PARSER.parse(source)
    for index, token in enumerate(tokens):
        piece = _piece(token, tokens, index)
        if piece is None:
            continue
        if heading is None and token.type == "inline" and tokens[index - 1].type == "heading_open":
            heading = piece
        parts.append(piece)
        used += len(piece) + 1
        if used >= limit:
            break
    text = "\n".join(part for part in parts if part)[:limit]
    return ParsedPage(title=front_title or heading, text=text)


def _piece(token: Token, tokens: list[Token], index: int) -> str | None:
    if token.type == "inline":
        return _inline(token.children or [])
    if token.type in ("fence", "code_block"):
        # Commands and config keys are what people search for; whole generated files are not.
        return _SPACES.sub(" ", token.content[:CODE_BLOCK_CHARS]).strip()
    return None


def _inline(children: list[Token]) -> str:
    out: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append(_inline(child.children or []))
    return _SPACES.sub(" ", "".join(out)).strip()


def _front_matter(source: str) -> tuple[str | None, str]:
    found = _FRONT_MATTER.match(source)
    if found is None:
        return None, source
    try:
        meta: Any = yaml.load(found.group(1), Loader=TolerantLoader)
    except yaml.YAMLError:
        meta = None
    title = meta.get("title") if isinstance(meta, dict) else None
    clean = _SPACES.sub(" ", title).strip() if isinstance(title, str) else None
    return clean or None, source[found.end() :]


class TolerantLoader(yaml.SafeLoader):
    """SafeLoader that reads unknown tags as nothing: mkdocs.yml files carry `!ENV` and
    `!!python/name:` tags for MkDocs' own loader, and the bot needs only their plain keys."""


def _ignore(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
    return None


TolerantLoader.add_multi_constructor("!", _ignore)
TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _ignore)
