"""The one way user text enters Slack's mrkdwn: escaped, and cut to Block Kit's limits.

Slack reads `<…>` in mrkdwn as a mention, a special mention (`<!channel>`, `<!here>`) or a
link with any label (`<https://evil.example|Approve>`), and `&` starts an entity. Text a
person typed (a reason, a comment, a question, a catalog description) therefore goes through
`escape` before it is placed in a mrkdwn string; the bot's own markup (`<@U123>`, links it
builds from trusted URLs) is added around the escaped text, never inside it.

`truncate` cuts finished mrkdwn to a Block Kit limit without breaking the markup: never
inside a `<…>` link or mention, never inside an `&amp;` entity, with an ellipsis when cut.
Both run in linear time on any input.
"""

from __future__ import annotations

ELLIPSIS = "…"

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks/section-block).
SECTION_TEXT_LIMIT = 3000
SECTION_FIELD_LIMIT = 2000
CONTEXT_TEXT_LIMIT = 2000

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# The longest entity `escape` produces, so a cut can look back far enough to see it whole.
_LONGEST_ENTITY = len("&amp;")


def escape(text: str) -> str:
    """`text` as literal mrkdwn: `&`, `<` and `>` cannot form mentions, links or entities."""
    return text.translate(_ESCAPES)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when anything was cut.

    The cut moves back to before an unclosed `<` (a link or mention would otherwise show as
    raw markup, or a link label would lose its target) and before a partial entity.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    cut = limit - len(ELLIPSIS)
    head = text[:cut]
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    amp = head.rfind("&", max(0, len(head) - _LONGEST_ENTITY))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + ELLIPSIS


def escape_truncated(text: str, limit: int) -> str:
    """User text escaped and cut to `limit` characters of mrkdwn (entities never split)."""
    return truncate(escape(text), limit)
