"""The maturity section's validation edges, the scoring rules, and the Block Kit builders."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.config import TeamConfig
from bot.core.errors import ConfigProblem
from surveys.maturity.config import MAX_DIMENSIONS, MaturitySection
from surveys.maturity.feature import assessed_teams
from surveys.maturity.service.scoring import overall_level, spread, team_level
from surveys.maturity.service.types import Invitee, RoundRef
from surveys.maturity.views import build_answer_modal, option_text


def _levels(label: str = "label", description: str = "description") -> dict[int, Any]:
    return {n: {"label": f"{label}", "description": description} for n in range(1, 6)}


def _dimension(key: str = "adoption", **levels: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": key.title(),
        "question": "Where does the team stand?",
        "levels": levels.get("levels", _levels()),
    }


def _section(**values: Any) -> MaturitySection:
    return MaturitySection.model_validate(values)


def _error(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        _section(**values)
    return str(caught.value)


def test_a_section_without_dimensions_is_valid_and_means_not_set_up() -> None:
    assert _section().dimensions is None


def test_an_empty_dimension_list_is_an_error() -> None:
    assert "at least one dimension" in _error(dimensions=[])


@pytest.mark.parametrize(
    "keys",
    [[1, 2, 3, 4], [1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4], [2, 3, 4, 5, 6]],
)
def test_levels_must_be_exactly_one_to_five(keys: list[int]) -> None:
    levels = {n: {"label": "x", "description": "y"} for n in keys}
    message = _error(dimensions=[_dimension(levels=levels)])
    assert "levels must be exactly 1, 2, 3, 4 and 5" in message
    assert "dimensions.0.levels" in message


def test_descriptor_lengths_at_the_limit_and_one_past() -> None:
    at = _levels(label="l" * 60, description="d" * 280)
    assert _section(dimensions=[_dimension(levels=at)]).dimensions
    assert "dimensions.0.levels.3.label" in _error(
        dimensions=[_dimension(levels={**at, 3: {"label": "l" * 61, "description": "d"}})]
    )
    assert "dimensions.0.levels.5.description" in _error(
        dimensions=[_dimension(levels={**at, 5: {"label": "l", "description": "d" * 281}})]
    )
    assert "label" in _error(
        dimensions=[_dimension(levels={**at, 1: {"label": "", "description": "d"}})]
    )


def test_dimension_count_keys_and_numbers_are_bounded() -> None:
    many = [_dimension(f"d{n}") for n in range(MAX_DIMENSIONS)]
    assert len(_section(dimensions=many).dimensions or []) == MAX_DIMENSIONS
    assert "dimensions" in _error(dimensions=[*many, _dimension("extra")])
    assert "unique" in _error(dimensions=[_dimension(), _dimension()])
    assert "min_group_size" in _error(min_group_size=0)
    assert "open_days" in _error(open_days=math.nan)
    assert "schedule" in _error(schedule="every monday", dimensions=[_dimension()])
    assert "needs `dimensions`" in _error(schedule="0 10 1 * *")


def test_teams_asked_default_to_those_with_leads_and_unknown_ones_are_named() -> None:
    teams = {
        "payments": TeamConfig(name="Payments", leads=["U1"]),
        "search": TeamConfig(members=["U2"]),
    }
    assert assessed_teams(_section(), teams) == {"payments": "Payments"}
    assert assessed_teams(_section(teams=["search"]), teams) == {"search": "search"}
    with pytest.raises(ConfigProblem) as caught:
        assessed_teams(_section(teams=["payments", "billing"]), teams)
    assert caught.value.location == ("maturity", "teams") and "billing" in caught.value.message


def test_a_team_level_is_the_lower_median_and_overall_the_mean() -> None:
    assert team_level([]) is None
    assert team_level([4]) == 4
    assert team_level([2, 3]) == 2  # one optimistic lead does not lift the team alone
    assert team_level([1, 2, 3]) == 2
    assert team_level([5, 1, 5, 5]) == 5
    with pytest.raises(ValueError):
        team_level([0, 3])
    with pytest.raises(ValueError):
        team_level([6])
    assert overall_level([]) is None
    assert overall_level([2, 3, 3]) == 2.7
    assert spread(["a", "b"], [{"a": 1, "b": 5}, {"a": 1, "b": 4}]) == {
        "a": [2, 0, 0, 0, 0],
        "b": [0, 0, 0, 1, 1],
    }


def _round(section: MaturitySection) -> RoundRef:
    return RoundRef(
        id=1,
        number=1,
        opened_at=datetime(2026, 12, 1, tzinfo=UTC),
        closes_at=datetime(2026, 12, 8, tzinfo=UTC),
        attribute_to="team",
        min_group_size=2,
        teams=("payments",),
        dimensions=tuple(section.dimensions or ()),
    )


def test_the_modal_fits_slack_limits_at_the_largest_questionnaire() -> None:
    levels = _levels(label="l" * 60, description="<!channel> & " + "d" * 260)
    section = _section(dimensions=[_dimension(f"d{n}", levels=levels) for n in range(10)])
    modal = build_answer_modal(_round(section), Invitee("payments", "<@U1> Payments"))
    assert len(modal["blocks"]) <= 100
    options = [
        option["text"]["text"]
        for block in modal["blocks"]
        if block["type"] == "input"
        for option in block["element"]["options"]
    ]
    assert len(options) == 50 and max(len(text) for text in options) <= 75
    assert option_text(3, "l" * 60) == "3 · " + "l" * 60
    shown = str(modal)
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "<@U1>" not in shown
