"""Time zones as Slack reports them: a missing or unknown one falls back to the campaign's."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from surveys.schedule import zone

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("reported", [None, "", "Mars/Olympus", "../../etc/passwd", "x" * 300])
def test_a_missing_or_unknown_zone_falls_back(reported: str | None) -> None:
    assert zone(reported, BERLIN) is BERLIN


def test_a_known_zone_is_the_persons_own() -> None:
    assert zone("Asia/Tokyo", BERLIN) == ZoneInfo("Asia/Tokyo")
