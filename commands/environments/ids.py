"""Names the feature shares with Slack, the job queue and the policy: one place for each."""

from __future__ import annotations

from enum import StrEnum


class PolicyAction(StrEnum):
    CREATE = "env.create"
    """The default; a template may name its own action (e.g. `env.create.big`)."""
    CLONE = "env.clone"
    DESTROY = "env.destroy"
    EXTEND = "env.extend"
    LIST = "env.list"
    CREDENTIALS = "env.credentials"


class JobKind(StrEnum):
    CREATE = "env.create"
    DESTROY = "env.destroy"
    REISSUE = "env.reissue"


class CallbackId(StrEnum):
    FORM = "env_form"
    PLAN = "env_plan"
    DESTROY = "env_destroy"
    EXTEND = "env_extend"


class ActionId(StrEnum):
    TEMPLATE = "env_template"
    APPROVE = "env_approve"
    DENY = "env_deny"
    REVEAL = "env_reveal"
    EXTEND = "env_extend"
    SNOOZE = "env_snooze"
    DESTROY_NOW = "env_destroy_now"
    FIELD = "env_field"
    CREATE_PREFILLED = "env_create_prefilled"
    """A button elsewhere (new-service's result) that opens the create form prefilled; its
    value is JSON {template, name, team}. Shared by string: features do not import each other."""


class BlockId(StrEnum):
    TEMPLATE = "template"
    NAME = "name"
    TIER = "tier"
    TEAM = "team"
    TTL = "ttl"
    REASON = "reason"
    CONFIRM_NAME = "confirm_name"
    EXTEND_HOURS = "extend_hours"
    INPUT_PREFIX = "input_"
