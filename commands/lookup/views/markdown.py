"""Catalog descriptions, which Backstage renders as Markdown, turned into Slack mrkdwn.

Parsed by markdown-it-py (CommonMark, raw HTML off, so `<!channel>` stays text) and written
back out token by token: links `[t](u)` become `<u|t>` when `u` is http(s) or mailto and
plain text otherwise; `**bold**`, `_italics_`, `~~strike~~` and inline code map to their
mrkdwn forms; lists, headings, quotes and code blocks keep their shape. Every piece of text
goes through `bot.core.mrkdwn.escape`, so nothing the author wrote can become a mention or a
link Slack would parse. Only the first `MAX_SOURCE` characters are read: a card never shows
more, and it bounds the parser's work on any input.
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.core.mrkdwn import escape, truncate

MAX_SOURCE = 6_000
LINK_SCHEMES = ("https://", "http://", "mailto:")
_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
# Every link parses as a link; `link` then keeps only web and mail ones, so a `javascript:`
# link shows as its label instead of as raw `[label](javascript:…)` syntax.
_PARSER.validateLink = lambda url: True  # type: ignore[method-assign]
_MARKS = {
    "strong_open": "*",
    "strong_close": "*",
    "em_open": "_",
    "em_close": "_",
    "s_open": "~",
    "s_close": "~",
}


def to_mrkdwn(markdown: str, limit: int, *, one_line: bool = False) -> str:
    """`markdown` as escaped mrkdwn of at most `limit` characters (links never cut)."""
    lines = _blocks(_PARSER.parse(markdown[:MAX_SOURCE]))
    text = " ".join(" ".join(lines).split()) if one_line else "\n".join(lines).strip()
    return truncate(text, limit) if text else ""


def link(url: str, label: str) -> str:
    """A mrkdwn link to a web or mail URL with an escaped label; the label alone otherwise."""
    if not url.startswith(LINK_SCHEMES) or any(c.isspace() for c in url):
        return escape(label)
    target = escape(url).replace("|", "%7C")
    shown = escape(label).replace("|", "¦") or target
    return f"<{target}|{shown}>"


def _blocks(tokens: Sequence[Token]) -> list[str]:
    lines: list[str] = []
    lists: list[list[int]] = []  # one counter per open list; -1 for a bullet list
    marker = ""
    quote = heading = 0
    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrGet("start")
            lists.append([-1 if kind == "bullet_list_open" else int(start or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open" and lists:
            counter = lists[-1]
            marker = "    " * (len(lists) - 1) + ("•" if counter[0] < 0 else f"{counter[0]}.")
            marker += " "
            if counter[0] >= 0:
                counter[0] += 1
        elif kind in ("blockquote_open", "blockquote_close"):
            quote += 1 if kind == "blockquote_open" else -1
        elif kind in ("heading_open", "heading_close"):
            heading = 1 if kind == "heading_open" else 0
        elif kind == "inline":
            text = _inline(token.children or [])
            if heading and text:
                text = f"*{text}*"
            lines.append("> " * quote + marker + text)
            marker = ""
        elif kind in ("fence", "code_block"):
            lines.append("> " * quote + "```" + escape(token.content.rstrip("\n")) + "```")
        elif kind == "hr":
            lines.append("———")
    return lines


def _inline(children: Sequence[Token]) -> str:
    out: list[str] = []
    label: list[str] | None = None  # the text of the link being read, if any
    href = ""
    for child in children:
        kind = child.type
        if kind == "link_open":
            href, label = str(child.attrGet("href") or ""), []
        elif kind == "link_close" and label is not None:
            out.append(link(href, "".join(label)))
            label = None
        elif kind == "image" and label is None:
            out.append(link(str(child.attrGet("src") or ""), child.content))
        elif kind in ("text", "code_inline", "image"):
            content = child.content
            if label is not None:
                label.append(content)
            elif kind == "code_inline":
                out.append("`" + escape(content.replace("`", "'")) + "`")
            else:
                out.append(escape(content))
        elif kind in ("softbreak", "hardbreak"):
            (label if label is not None else out).append(" " if kind == "softbreak" else "\n")
        elif kind in _MARKS and label is None:
            out.append(_MARKS[kind])
    return "".join(out)
