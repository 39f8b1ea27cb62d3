"""Ids of the maturity feature: the Slack ids its builders and handlers share, its job kind."""

from enum import StrEnum


class ActionId(StrEnum):
    TAKE = "maturity_take"
    LEVEL = "maturity_level_select"


class CallbackId(StrEnum):
    ANSWER = "maturity_answer"
    NOTICE = "maturity_notice"


class BlockId(StrEnum):
    INVITE_ACTIONS = "maturity_invite_actions"
    # One input block per dimension: this prefix and the dimension's key.
    DIMENSION_PREFIX = "maturity_dim:"


class JobKind(StrEnum):
    FANOUT = "maturity.fanout"
