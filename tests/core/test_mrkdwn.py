"""User text in mrkdwn stays literal text, and cuts never break markup."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.mrkdwn import ELLIPSIS, escape, escape_truncated, truncate


def test_escape_neutralises_mentions_links_and_entities() -> None:
    hostile = "<!channel> <https://evil.example/sso|Approve in the portal> &amp; <@U1>"
    escaped = escape(hostile)
    assert "<" not in escaped and ">" not in escaped
    assert escaped == (
        "&lt;!channel&gt; &lt;https://evil.example/sso|Approve in the portal&gt; "
        "&amp;amp; &lt;@U1&gt;"
    )


def test_escape_leaves_ordinary_text_alone() -> None:
    assert escape("Needs a *bigger* plan: 3 GB, _please_") == (
        "Needs a *bigger* plan: 3 GB, _please_"
    )
    assert escape("") == ""


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abcdef", 6, "abcdef"),  # exactly the limit: untouched
        ("abcdefg", 6, "abcde" + ELLIPSIS),  # one past: cut with an ellipsis
        ("", 1, ""),
        ("ab", 1, ELLIPSIS),
    ],
)
def test_truncate_keeps_within_the_limit(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


def test_truncate_never_cuts_inside_a_link_or_mention() -> None:
    text = "see <https://docs.example/a/very/long/path|the docs> now"
    for limit in range(5, len(text)):
        cut = truncate(text, limit)
        assert cut.count("<") == cut.count(">"), cut
        assert len(cut) <= limit


def test_truncate_never_cuts_inside_an_entity() -> None:
    text = escape("a < b & c > d")
    for limit in range(2, len(text)):
        cut = truncate(text, limit)
        body = cut.removesuffix(ELLIPSIS)
        tail = body[body.rfind("&") :] if "&" in body else ""
        assert not tail or tail.endswith(";") or ";" in tail, cut


def test_truncate_refuses_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        truncate("abc", 0)


@given(st.text(max_size=300), st.integers(min_value=1, max_value=400))
def test_escaped_and_truncated_user_text_never_carries_markup(text: str, limit: int) -> None:
    result = escape_truncated(text, limit)
    assert "<" not in result and ">" not in result
    assert len(result) <= limit
