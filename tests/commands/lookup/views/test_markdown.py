"""Catalog descriptions (Markdown in Backstage) as Slack mrkdwn: formatted, escaped, bounded."""

from __future__ import annotations

import pytest

from bot.core.mrkdwn import SECTION_TEXT_LIMIT
from commands.lookup.views.markdown import link, to_mrkdwn
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS

# The README of a real service, as teams paste it into metadata.description.
README = """\
# Payments API

Authorises, captures and **refunds** card payments for _every_ storefront.
See the [runbook](https://runbooks.acme.example/payments?team=pay&env=prod) or mail
[the team](mailto:payments@acme.example). Config lives in `payments.yaml`; ~~v1~~ is gone.

- PCI scope: *yes*
- Owner: [@payments](javascript:alert(document.cookie))

1. Open a ticket
2. Page on-call

> Do not call the card network directly.

```
curl -X POST https://payments.internal/v2/charges
```
"""


def test_a_readme_keeps_its_links_emphasis_lists_and_code() -> None:
    assert to_mrkdwn(README, SECTION_TEXT_LIMIT).split("\n") == [
        "*Payments API*",
        "Authorises, captures and *refunds* card payments for _every_ storefront. "
        "See the <https://runbooks.acme.example/payments?team=pay&amp;env=prod|runbook> or mail "
        "<mailto:payments@acme.example|the team>. Config lives in `payments.yaml`; ~v1~ is gone.",
        "• PCI scope: _yes_",
        "• Owner: @payments",
        "1. Open a ticket",
        "2. Page on-call",
        "> Do not call the card network directly.",
        "```curl -X POST https://payments.internal/v2/charges```",
    ]


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("", ""),
        ("plain words", "plain words"),
        ("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"),
        ("<!channel> please", "&lt;!channel&gt; please"),
        ("<https://evil.example/sso|Approve in the portal>",
         "&lt;https://evil.example/sso|Approve in the portal&gt;"),
        # An autolink is a link, shown as its own address: nothing disguised.
        ("<https://evil.example/sso|Approve>",
         "<https://evil.example/sso%7CApprove|https://evil.example/sso¦Approve>"),
        ("[Approve](https://evil.example/sso) now", "<https://evil.example/sso|Approve> now"),
        ("[x](https://a.example/p|q>r)", "<https://a.example/p%7Cq%3Er|x>"),
        ("[a|b](https://a.example)", "<https://a.example|a¦b>"),
        ("[ftp](ftp://files.example/x)", "ftp"),
        ("[rel](./docs/index.md)", "rel"),
        ("[js](javascript:alert(1))", "js"),
        ("<https://docs.acme.example>", "<https://docs.acme.example|https://docs.acme.example>"),
        ("![diagram](https://img.example/d.png)", "<https://img.example/d.png|diagram>"),
        ("[**bold** link](https://a.example)", "<https://a.example|bold link>"),
        ("`<@U123>` and `a`b`", "`&lt;@U123&gt;` and `a`b`"),
    ],
)  # fmt: skip
def test_text_is_escaped_and_only_web_and_mail_links_stay_links(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown, SECTION_TEXT_LIMIT) == mrkdwn


def test_hostile_text_never_becomes_markup() -> None:
    for rendered in (
        to_mrkdwn(HOSTILE_TEXT, SECTION_TEXT_LIMIT),
        to_mrkdwn(f"**{HOSTILE_TEXT}**\n\n- {HOSTILE_TEXT}", SECTION_TEXT_LIMIT),
        link("https://ok.example", HOSTILE_TEXT),
        link(HOSTILE_TEXT, "label"),
    ):
        assert not any(marker in rendered for marker in RAW_MARKERS), rendered


def test_one_line_for_lists_of_results() -> None:
    assert to_mrkdwn("Line one\nline two\n\n- item", 200, one_line=True) == (
        "Line one line two • item"
    )


@pytest.mark.parametrize("limit", [1, 20, 47, 48, 49, 3000])
def test_a_cut_never_falls_inside_a_link(limit: int) -> None:
    text = "word " * 8 + "[the runbook](https://runbooks.acme.example/payments-api) " * 60
    rendered = to_mrkdwn(text, limit)
    assert len(rendered) <= limit
    assert rendered.count("<") == rendered.count(">")


def test_a_huge_description_is_read_only_as_far_as_a_card_can_show() -> None:
    rendered = to_mrkdwn("[" * 200_000 + "*a" * 200_000, SECTION_TEXT_LIMIT)
    assert len(rendered) <= SECTION_TEXT_LIMIT and rendered.endswith("…")
