"""Hours that people type (a time to live, an extension): finite, positive, bounded.

`float()` reads "nan", "inf", "1e309" and "1_0"; a NaN then passes every `<`/`>` check
(it compares false with everything) and reaches the database as NULL or NaN. So typed hours
are read as plain decimals of bounded length, and every value, typed or not, is checked
with `math.isfinite` before its bounds.
"""

from __future__ import annotations

import math
import re

MAX_TEXT = 12
"""Longest hours text accepted: "8760.5" fits many times; a 400-digit number does not."""

_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)


def hours_problem(hours: float | None, *, field: str, maximum: float | None) -> str | None:
    """Why `hours` is not a usable number of hours for `field`, or None when it is.

    Usable: finite, above 0 and at most `maximum` (when there is one).
    """
    if (
        hours is None
        or not math.isfinite(hours)
        or hours <= 0
        or (maximum is not None and hours > maximum)
    ):
        return _expected(field, maximum)
    return None


def parse_hours(text: str, *, field: str, maximum: float | None) -> tuple[float | None, str | None]:
    """`text` as hours for `field`: (the value, None), or (None, what is wrong with it)."""
    cleaned = text.strip()
    if len(cleaned) > MAX_TEXT or not _DECIMAL.fullmatch(cleaned):
        return None, _expected(field, maximum)
    hours = float(cleaned)
    problem = hours_problem(hours, field=field, maximum=maximum)
    return (None, problem) if problem else (hours, None)


def _expected(field: str, maximum: float | None) -> str:
    if maximum is None:
        return f"{field}: give a number of hours above 0, e.g. 24."
    return f"{field}: give a number of hours above 0 and at most {maximum:g}."
