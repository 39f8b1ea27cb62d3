"""Ids of office hours: the Slack ids its builders and handlers share, and its job kind."""

import re
from enum import StrEnum


class ActionId(StrEnum):
    ASK = "office_hours_ask"
    ATTEND = "office_hours_attend"
    RATE_PREFIX = "office_hours_rate_"
    QUESTION = "office_hours_question_input"


class CallbackId(StrEnum):
    QUESTION = "office_hours_question"


class BlockId(StrEnum):
    QUESTION = "office_hours_question"
    REMINDER_ACTIONS = "office_hours_actions"
    RATING = "office_hours_rating"


RATE_PATTERN = re.compile(r"^office_hours_rate_[1-5]$")


class JobKind(StrEnum):
    FOLLOW_UP = "office_hours.follow_up"
