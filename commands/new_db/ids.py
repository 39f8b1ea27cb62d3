"""Slack ids of the feature, shared by the Block Kit builders and the listeners."""

from __future__ import annotations

from enum import StrEnum


class PolicyAction(StrEnum):
    CREATE = "db.create"
    DROP = "db.drop"
    LIST = "db.list"
    ROTATE = "db.rotate"


class JobKind(StrEnum):
    PROVISION = "db.provision"
    DROP = "db.drop"
    HANDOFF = "db.handoff"
    ROTATE = "db.rotate"


class CallbackId(StrEnum):
    NEW_DB = "new_db_request"
    DENY = "new_db_deny"
    DROP = "new_db_drop_confirm"
    EXTEND = "new_db_extend"
    ROTATE = "new_db_rotate_confirm"


class ActionId(StrEnum):
    ENGINE = "new_db_engine"
    TIER = "new_db_tier"
    APPROVE = "new_db_approve"
    DENY = "new_db_deny"
    REVEAL = "new_db_reveal"
    EXTEND = "new_db_extend"
    DROP_NOW = "new_db_drop_now"
    OPEN_FORM = "new_db_open_form"
    """A button elsewhere (the dashboard's quick actions) that opens the request modal."""
    # Input elements inside the modals; Slack needs an action id on each.
    NAME = "new_db_name"
    TEAM = "new_db_team"
    PLAN = "new_db_plan"
    TTL = "new_db_ttl"
    REASON = "new_db_reason"
    DENY_REASON = "new_db_deny_reason"
    CONFIRM_NAME = "new_db_confirm_name"
    EXTEND_HOURS = "new_db_extend_hours"


class BlockId(StrEnum):
    ENGINE = "engine"
    NAME = "name"
    TIER = "tier"
    TEAM = "team"
    PLAN = "plan"
    PLAN_NOTE = "plan_note"
    TTL = "ttl"
    REASON = "reason"
    DENY_REASON = "deny_reason"
    CONFIRM_NAME = "confirm_name"
    EXTEND_HOURS = "extend_hours"
    DECISION = "decision"
