"""The mrkdwn pieces the lookup answers are made of: moments, lists, channels, people."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands.lookup.service.types import Links, Person, Team
from commands.lookup.views.text import channel, join_limited, links_text, team_text, when
from tests.commands.lookup.views.samples import AT
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


@pytest.mark.parametrize(
    ("tz", "shown"),
    [
        ("Asia/Kolkata", "Thu 26 Nov 17:30 IST"),
        ("America/New_York", "Thu 26 Nov 07:00 EST"),
        (None, "Thu 26 Nov 12:00 UTC"),
        ("", "Thu 26 Nov 12:00 UTC"),
    ],
)
def test_a_moment_is_shown_in_the_readers_time_zone(tz: str | None, shown: str) -> None:
    assert when(AT, tz) == shown


@pytest.mark.parametrize(
    "tz",
    [
        "Not/AZone",
        "America",  # a folder of the time zone database, not a zone
        "Etc",
        "/etc/localtime",
        "../../etc/passwd",
        "x" * 300,  # longer than a file name may be
        "UTC\x00",
        HOSTILE_TEXT,
    ],
)
def test_a_time_zone_that_is_not_one_falls_back_to_utc(tz: str) -> None:
    assert when(AT, tz) == "Thu 26 Nov 12:00 UTC"
    assert when(AT + timedelta(days=3), tz) == "Sun 29 Nov 12:00 UTC"


def test_a_list_is_cut_whole_items_at_a_time_with_how_many_were_left_out() -> None:
    items = ["<@U0AAAAAAA>", "<@U0BBBBBBB>", "<@U0CCCCCCC>"]
    everything = "<@U0AAAAAAA>, <@U0BBBBBBB>, <@U0CCCCCCC>"
    # Room for "and N more" is kept whatever fits, so the result never passes the limit.
    limit = len(everything) + len(" and 3 more")
    assert join_limited(items, limit) == everything
    assert join_limited(items, limit - 1) == "<@U0AAAAAAA>, <@U0BBBBBBB> and 1 more"
    assert join_limited(items, limit, hidden=4) == everything + " and 4 more"
    assert join_limited([], 10) == ""
    assert join_limited([], 100, hidden=3) == " and 3 more"
    cut = join_limited(["x" * 50], 20)
    assert cut.endswith("…") and len(cut) <= 20


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("C0PAYMENTS", "<#C0PAYMENTS>"),
        ("G0PRIVATE1", "<#G0PRIVATE1>"),
        ("C0SHORT", "<#C0SHORT>"),
        ("C0SHRT", "#C0SHRT"),  # too short for a channel ID: a name
        ("c0payments", "#c0payments"),
        ("payments", "#payments"),
        ("#payments", "#payments"),
        (
            HOSTILE_TEXT,
            "#&lt;!channel&gt; &lt;https://evil.example/sso|Approve in the portal&gt; &amp; more",
        ),
        ("", None),
        (None, None),
    ],
)
def test_a_channel_id_becomes_a_link_and_anything_else_escaped_text(
    value: str | None, shown: str | None
) -> None:
    assert channel(value) == shown


def test_a_team_outside_the_catalog_says_so_and_a_person_owner_is_mentioned() -> None:
    team = Team("group:default/ghosts", HOSTILE_TEXT, "C0GHOSTS1", in_catalog=False)
    text = team_text(team, None)
    assert text.endswith("(<#C0GHOSTS1>) _(not in the catalog)_")
    assert not any(marker in text for marker in RAW_MARKERS)
    assert team_text(team, Person("Dana", "U0DANA")) == "<@U0DANA>"
    assert team_text(None, None) == "nobody (no owner in the catalog)"


def test_links_show_four_of_each_kind_and_only_web_links_become_links() -> None:
    runbooks = tuple((f"Runbook {n}", f"https://runbooks.example/{n}") for n in range(6))
    text = links_text(Links(runbooks=runbooks, docs=(("Docs", "javascript:alert(1)"),)), 3_000)
    assert text is not None
    shown = ", ".join(f"<https://runbooks.example/{n}|Runbook {n}>" for n in range(4))
    assert text.split("\n") == ["*Docs:* Docs", f"*Runbooks:* {shown} and 2 more"]
    assert links_text(Links(), 3_000) is None
