"""The `dbs` answer's Reveal buttons and the used Reveal offer, built as Slack shows them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from commands.new_db.ids import ActionId
from commands.new_db.service.types import ResourceInfo
from commands.new_db.views.messages import (
    REVEAL_BUTTONS_MAX,
    build_listing,
    build_revealed_offer,
)
from tests.commands.new_db.test_progress import INFO

MAX_BLOCKS = 50  # Slack's limit for one message


def _resource(index: int) -> ResourceInfo:
    return replace(INFO.resource, id=f"r{index:03d}", name=f"db-{index:03d}", status="active")


def _buttons(blocks: list[dict[str, Any]]) -> list[str]:
    accessories = [b["accessory"] for b in blocks if "accessory" in b]
    return [str(a["value"]) for a in accessories if a.get("action_id") == ActionId.REVEAL]


@pytest.mark.parametrize(
    ("waiting", "shown", "more"),
    [
        (0, 0, None),
        (1, 1, None),
        (REVEAL_BUTTONS_MAX, REVEAL_BUTTONS_MAX, None),
        (REVEAL_BUTTONS_MAX + 1, REVEAL_BUTTONS_MAX, "…and 1 more"),
        (45, REVEAL_BUTTONS_MAX, "…and 35 more"),
    ],
)
def test_a_reveal_button_per_waiting_resource_up_to_the_limit(
    waiting: int, shown: int, more: str | None
) -> None:
    resources = [_resource(i) for i in range(50)]
    blocks = build_listing(resources, {r.id for r in resources[:waiting]})
    assert _buttons(blocks) == [r.id for r in resources[:shown]]
    assert len(blocks) <= MAX_BLOCKS
    text = json.dumps(blocks, ensure_ascii=False)
    assert ("reveal some to see the rest" in text) == (more is not None)
    if more is not None:
        assert more in text


def test_only_listed_resources_get_a_button() -> None:
    listed = [_resource(1)]
    assert _buttons(build_listing(listed, {"r001", "r999"})) == ["r001"]
    assert _buttons(build_listing([], {"r001"})) == []


def test_the_used_offer_has_no_button_and_says_when() -> None:
    when = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    blocks = build_revealed_offer(_resource(7), when)
    text = json.dumps(blocks)
    assert ActionId.REVEAL not in text and "button" not in text
    assert f"revealed <!date^{int(when.timestamp())}^" in text
    assert "2026-11-30 09:15 UTC" in text  # the fallback where dates are not rendered
    assert "`db-007`" in text
