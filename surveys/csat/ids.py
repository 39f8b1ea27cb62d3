"""Slack ids of action CSAT: one button per rating, `csat_rate_1` … `csat_rate_5`."""

import re
from enum import StrEnum


class ActionId(StrEnum):
    RATE_PREFIX = "csat_rate_"


class BlockId(StrEnum):
    RATING = "csat_rating"


RATE_PATTERN = re.compile(r"^csat_rate_[1-5]$")
