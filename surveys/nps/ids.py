"""Ids of the NPS feature: the Slack ids its builders and handlers share, and its job kind."""

from enum import StrEnum


class ActionId(StrEnum):
    TAKE = "nps_take"
    SNOOZE = "nps_snooze"
    SCORE = "nps_score_select"
    COMMENT = "nps_comment_input"


class CallbackId(StrEnum):
    ANSWER = "nps_answer"
    NOTICE = "nps_notice"


class BlockId(StrEnum):
    SCORE = "nps_score"
    COMMENT = "nps_comment"
    INVITE_ACTIONS = "nps_invite_actions"


class JobKind(StrEnum):
    FANOUT = "nps.fanout"
