"""How answers become levels. Pure functions: no database, no Slack.

- A team's level on a dimension is the *lower median* of its leads' answers: the highest
  level that more than half of them put the team at or above. It is always one of the five
  levels (never 2.5), and one optimistic lead cannot lift a team alone.
- A team's overall level is the mean of its dimension levels, to one decimal (2.6): the
  dimensions weigh the same.
- The platform spread counts, per dimension, the teams at each level; a team with fewer
  answers than the round's minimum group size is left out of it (its levels are not shown
  anywhere, and counting it would let a reader work them out).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence

from surveys.maturity.config import LEVELS


def team_level(answers: Iterable[int]) -> int | None:
    """The lower median of 1 … 5 answers; None without answers."""
    values = sorted(answers)
    if not values:
        return None
    if any(value not in LEVELS for value in values):
        raise ValueError("levels are 1 to 5")
    return int(statistics.median_low(values))


def overall_level(levels: Iterable[int]) -> float | None:
    """The mean of a team's dimension levels, rounded to one decimal; None without levels."""
    values = list(levels)
    if not values:
        return None
    return round(sum(values) / len(values), 1)


def levels_by_dimension(answers: Mapping[str, Sequence[int]]) -> dict[str, int]:
    """Each dimension's team level from its answers (dimensions without answers left out)."""
    found = {key: team_level(values) for key, values in answers.items()}
    return {key: level for key, level in found.items() if level is not None}


def spread(dimensions: Sequence[str], teams: Iterable[Mapping[str, int]]) -> dict[str, list[int]]:
    """Per dimension, how many of `teams` (each a dimension → level map) are at levels 1 … 5."""
    counts = {key: [0] * len(LEVELS) for key in dimensions}
    for levels in teams:
        for key, level in levels.items():
            if key in counts:
                counts[key][level - 1] += 1
    return counts
